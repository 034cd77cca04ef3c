"""The layer registry: every layer by name, and the reads the map, exports and OGC API share.

Like pygeoapi's registry a name maps to a definition, but a definition is data (``layers.base``)
rather than a provider class: each module in this package contributes its layers here.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Iterator

from psycopg2 import sql as psql

from db.core import local_settings, pooled, sql
from domain import policy
from layers import grid_units, heat, houses, incidents, patrol, places, routing, workers
from layers.base import (
    Layer,
    LayerError,
    NotForRole,
    OutsideJurisdiction,
    Query,
    UnknownLayer,
    allowed,
    check,
    key_at,
    params,
    revealed,
    select,
)

__all__ = ["LAYERS", "Layer", "LayerError", "NotForRole", "OutsideJurisdiction", "Query", "UnknownLayer", "get",
           "geojson", "map_layers", "summary", "extent", "count", "stream", "page", "keyset_page", "hits"]

LAYERS: dict[str, Layer] = {layer.name: layer
                            for module in (grid_units, places, incidents, workers, heat, routing, patrol, houses)
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
           now: datetime | None = None, times: str = "native") -> Iterator[list[tuple]]:
    """Chunks of ``(fid, wkb, *fields)`` rows through a server-side cursor: never the whole layer
    in memory. ``conn`` must be in a transaction (named cursors need one). ``times="text"``:
    datetimes arrive as UTC text (``layers.base.select``)."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    bind["srid"] = srid
    rows = select(layer, actor, query, bind, geom="wkb", order=False, times=times)
    with conn.cursor(name=f"export_{layer.name}") as cur:
        cur.itersize = chunk
        cur.execute(rows, bind)
        while True:
            batch = cur.fetchmany(chunk)
            if not batch:
                return
            yield batch


COUNT_CAP = 50_000  # numberMatched is counted up to this many rows; beyond, it is omitted (optional in OGC)


def page(conn, layer: Layer, actor, query: Query, limit: int, offset: int,
         now: datetime | None = None, action: str = "layer_read") -> tuple[list[tuple], int]:
    """One page of ``(fid, geojson, *fields)`` rows in key order, and the exact number matched."""
    rows, matched, _ = keyset_page(conn, layer, actor, query, limit, offset, now, action, count_cap=None)
    assert matched is not None  # an exact count was asked for
    return rows, matched


def keyset_page(conn, layer: Layer, actor, query: Query, limit: int, offset: int = 0,
                now: datetime | None = None, action: str = "layer_read", after: str | None = None,
                count_cap: int | None = COUNT_CAP,
                feature_tz: str | None = None) -> tuple[list[tuple], int | None, bool]:
    """One page of ``(fid, geojson, *fields)`` rows in the layer's key order, after the key
    ``after`` (keyset: any depth costs the same) and ``offset`` rows; the number matched when it
    is cheap (None when not: counted only on a first page, and only up to ``count_cap`` rows;
    ``count_cap=None`` counts exactly); and whether more rows follow. A page that revealed
    classed fields is noted as ``action`` for the request's audit row. With ``feature_tz`` the rows
    are ``(fid, GeoJSON Feature text)``, built by PostgreSQL with times in that zone."""
    check(layer, query)
    bind = params(layer, actor, query, now)
    with conn.cursor() as cur:
        start, found = after, True
        if offset > 0 and after is None:  # seek: the key of the row before the page, then a keyset page
            seek = {**bind, "seek": offset - 1}
            with local_settings(conn):
                cur.execute("SET LOCAL jit = off")  # a long walk's cost would JIT-compile it: 0.2 s
                cur.execute(key_at(layer, actor, query, seek), seek)
                row = cur.fetchone()
            start, found = (str(row[0]), True) if row else (None, False)
        base = select(layer, actor, query, bind, geom="geojson", order=True, after=start, feature_tz=feature_tz)
        bind["page_limit"] = limit + 1  # one more row: is there a next page?
        if feature_tz is None:  # (the feature query pages inside, before it builds the features)
            base = psql.SQL("{} LIMIT %(page_limit)s").format(base)
        rows: list[tuple] = []
        if found:
            cur.execute(base, bind)
            rows = cur.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        if rows:
            policy.note_reveal(f"layer:{layer.name}", revealed(layer, actor), len(rows), action, actor)
        if not more and after is None and (rows or offset == 0):
            return rows, offset + len(rows), more  # the last page: the count is known
        if count_cap is not None and (after is not None or offset > 0):
            return rows, None, more  # deeper pages: the first page told the count, if it was cheap
        return rows, _count(cur, layer, actor, query, bind, count_cap), more


def _count(cur, layer: Layer, actor, query: Query, bind: dict, cap: int | None) -> int | None:
    """The rows matched, counting at most ``cap`` + 1 of them (None beyond ``cap``)."""
    rows = select(layer, actor, query, bind, geom="geom", order=False)
    if cap is not None:
        bind["count_cap"] = cap + 1
        rows = psql.SQL("{} LIMIT %(count_cap)s").format(rows)
    cur.execute(psql.SQL(sql("export_count")).format(rows=rows), bind)
    n = cur.fetchone()[0]
    return None if cap is not None and n > cap else n


def hits(conn, layer: Layer, actor, query: Query, now: datetime | None = None) -> int:
    """The exact number of features matched (OGC ``resultType=hits``), no rows read out."""
    return count(conn, layer, actor, query, now)
