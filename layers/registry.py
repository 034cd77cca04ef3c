"""The layer registry: every layer by name, and the reads the map, exports and OGC API share.

Like pygeoapi's registry a name maps to a definition, but a definition is data (``layers.base``)
rather than a provider class: each module in this package contributes its layers here.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Iterator

from psycopg2 import sql as psql

from db.core import pooled, sql
from domain import policy
from layers import grid_units, heat, houses, incidents, places, routing, workers
from layers.base import (
    Layer,
    LayerError,
    NotForRole,
    OutsideJurisdiction,
    Query,
    UnknownLayer,
    allowed,
    check,
    params,
    revealed,
    select,
)

__all__ = ["LAYERS", "Layer", "LayerError", "NotForRole", "OutsideJurisdiction", "Query", "UnknownLayer", "get",
           "geojson", "map_layers", "summary", "extent", "count", "stream", "page"]

LAYERS: dict[str, Layer] = {layer.name: layer
                            for module in (grid_units, places, incidents, workers, heat, routing, houses)
                            for layer in module.LAYERS}
MAP_ONLY: set[str] = set()  # every layer is exportable today; keep a name here to hide one from exports


def get(name: str) -> Layer:
    """The layer called ``name``; ``UnknownLayer`` lists the known ones."""
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayer(f"unknown layer {name!r}; known: {', '.join(sorted(LAYERS))}") from None


def map_layers(actor) -> set[str]:
    """The layers ``actor`` may have on the map (a read-only wall gets no worker positions)."""
    return {name for name, layer in LAYERS.items()
            if not layer.row_class or policy.sees(actor, layer.row_class)}


def geojson(dsn: str, name: str, actor, query: Query | None = None, zoom: float | None = None) -> str:
    """The layer as the map's GeoJSON FeatureCollection text, built in PostGIS for ``actor``: the
    rows of their jurisdiction (``query.unit`` narrows it) with the map's fields, masked as the
    exports and the OGC API mask them, and the outline units the jurisdiction sits in. A layer with
    map variants (incidents: clusters below a zoom, points above) answers with the one for ``zoom``."""
    layer = get(name)
    query = query or Query()
    allowed(layer, actor)
    check(layer, query)
    variant = layer.variant(zoom, query.bbox)
    if variant is not None and not variant.needs_bbox:
        query = dataclasses.replace(query, bbox=None)  # clusters: the whole unit, not the viewport
    bind = params(layer, actor, query, outline=True)
    bind["with_stats"] = False
    if variant is not None:
        bind.update(variant.params)
        fields, sql_name = variant.fields, variant.sql_name
    else:
        fields, sql_name = tuple(f for f in layer.fields if f.map), None
    rows = select(layer, actor, query, bind, fields=fields, geom="geom", order=False, sql_name=sql_name)
    geom = (psql.SQL("ST_SimplifyPreserveTopology(m.geom, {})").format(psql.Literal(layer.map_simplify))
            if layer.map_simplify else psql.SQL("m.geom"))
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(psql.SQL(sql("layer_map_geojson")).format(rows=rows, geom=geom), bind)
        body = cur.fetchone()[0]
    policy.note_reveal(f"layer:{name}", revealed(layer, actor, fields), action="map_layer", actor=actor)
    return body


def summary(dsn: str, region_code: str, scope: str) -> dict:
    """Headline counts for the jurisdiction ``scope`` (grid, people, incidents)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("summary_counts"), {"region_code": region_code, "scope": scope})
        cols = [c.name for c in cur.description]
        return dict(zip(cols, cur.fetchone(), strict=True))


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
    rows = select(layer, actor, query, bind, geom="geom", order=False)
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
    rows = select(layer, actor, query, bind, geom="wkb", order=False)
    with conn.cursor(name=f"export_{layer.name}") as cur:
        cur.itersize = chunk
        cur.execute(rows, bind)
        while True:
            batch = cur.fetchmany(chunk)
            if not batch:
                return
            yield batch


def page(conn, layer: Layer, actor, query: Query, limit: int, offset: int,
         now: datetime | None = None, action: str = "layer_read") -> tuple[list[tuple], int]:
    """One page of ``(fid, geojson, *fields)`` rows in feature-id order, and the number matched;
    a page that revealed classed fields is noted as ``action`` for the request's audit row."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    base = select(layer, actor, query, bind, geom="geojson", order=True)
    bind.update(limit=limit, offset=offset)
    with conn.cursor() as cur:
        cur.execute(psql.SQL("{} LIMIT %(limit)s OFFSET %(offset)s").format(base), bind)
        rows = cur.fetchall()
        if rows:
            policy.note_reveal(f"layer:{layer.name}", revealed(layer, actor), len(rows), action, actor)
        if offset == 0 and len(rows) < limit:
            return rows, len(rows)
        cur.execute(psql.SQL(sql("export_count")).format(
            rows=select(layer, actor, query, bind, geom="geom", order=False)), bind)
        return rows, cur.fetchone()[0]
