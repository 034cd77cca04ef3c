"""The layer registry: every layer by name, and the reads the map, exports and OGC API share.

Like pygeoapi's registry a name maps to a definition, but a definition is data (``layers.base``)
rather than a provider class: each module in this package contributes its layers here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from psycopg2 import sql as psql

from db.core import pooled, sql
from layers import grid_units, heat, incidents, places, routing, workers
from layers.base import Layer, LayerError, OutsideJurisdiction, Query, UnknownLayer, check, params, select

__all__ = ["LAYERS", "Layer", "LayerError", "OutsideJurisdiction", "Query", "UnknownLayer", "get",
           "geojson", "summary", "extent", "count", "stream", "page", "MapActor"]

LAYERS: dict[str, Layer] = {layer.name: layer for module in (grid_units, places, incidents, workers, heat, routing)
                            for layer in module.LAYERS}
MAP_ONLY: set[str] = set()  # every layer is exportable today; keep a name here to hide one from exports


class MapActor:
    """The map's reader when only a scope is known: the most restrictive role (masks everything)."""

    role = "map"
    department_code = None

    def __init__(self, region_code: str, scope: str):
        self.region_code, self.unit_code = region_code, scope


def get(name: str) -> Layer:
    """The layer called ``name``; ``UnknownLayer`` lists the known ones."""
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayer(f"unknown layer {name!r}; known: {', '.join(sorted(LAYERS))}") from None


def geojson(dsn: str, name: str, region_code: str, scope: str, actor=None, query: Query = Query()) -> str:
    """The layer as GeoJSON FeatureCollection text, built in PostGIS, limited to the jurisdiction
    ``scope`` (a grid unit code; the region code for the whole county) and its outline."""
    layer = get(name)
    actor = actor or MapActor(region_code, scope)
    check(layer, query)
    bind = params(layer, actor, query, outline=True)
    bind["with_stats"] = False
    rows = select(layer, actor.role, query, bind, fields=tuple(f for f in layer.fields if f.map),
                  geom="geom", order=False)
    geom = (psql.SQL("ST_SimplifyPreserveTopology(m.geom, {})").format(psql.Literal(layer.map_simplify))
            if layer.map_simplify else psql.SQL("m.geom"))
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(psql.SQL(sql("layer_map_geojson")).format(rows=rows, geom=geom), bind)
        return cur.fetchone()[0]


def summary(dsn: str, region_code: str, scope: str) -> dict:
    """Headline counts for the jurisdiction ``scope`` (grid, people, incidents)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("summary_counts"), {"region_code": region_code, "scope": scope})
        cols = [c.name for c in cur.description]
        return dict(zip(cols, cur.fetchone()))


def extent(dsn: str, region_code: str, scope: str) -> list[list[float]] | None:
    """Bounds of the jurisdiction unit as Leaflet wants them, [[south, west], [north, east]]."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("region_extent"), {"region_code": region_code, "scope": scope})
        xmin, ymin, xmax, ymax = cur.fetchone()
    return None if xmin is None else [[ymin, xmin], [ymax, xmax]]


def count(conn, layer: Layer, actor, query: Query, now: datetime | None = None) -> int:
    """How many features ``actor`` would get from ``layer`` with ``query``."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    rows = select(layer, actor.role, query, bind, geom="geom", order=False)
    with conn.cursor() as cur:
        cur.execute(psql.SQL(sql("export_count")).format(rows=rows), bind)
        return cur.fetchone()[0]


def stream(conn, layer: Layer, actor, query: Query, srid: int = 4326, chunk: int = 20_000,
           now: datetime | None = None) -> Iterator[list[tuple]]:
    """Chunks of ``(fid, wkb, *fields)`` rows through a server-side cursor: never the whole layer
    in memory. ``conn`` must be in a transaction (named cursors need one)."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    bind["srid"] = srid
    rows = select(layer, actor.role, query, bind, geom="wkb", order=False)
    with conn.cursor(name=f"export_{layer.name}") as cur:
        cur.itersize = chunk
        cur.execute(rows, bind)
        while True:
            batch = cur.fetchmany(chunk)
            if not batch:
                return
            yield batch


def page(conn, layer: Layer, actor, query: Query, limit: int, offset: int,
         now: datetime | None = None) -> tuple[list[tuple], int]:
    """One page of ``(fid, geojson, *fields)`` rows in feature-id order, and the number matched."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    base = select(layer, actor.role, query, bind, geom="geojson", order=True)
    bind.update(limit=limit, offset=offset)
    with conn.cursor() as cur:
        cur.execute(psql.SQL("{} LIMIT %(limit)s OFFSET %(offset)s").format(base), bind)
        rows = cur.fetchall()
        if offset == 0 and len(rows) < limit:
            return rows, len(rows)
        cur.execute(psql.SQL(sql("export_count")).format(
            rows=select(layer, actor.role, query, bind, geom="geom", order=False)), bind)
        return rows, cur.fetchone()[0]
