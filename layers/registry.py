"""The map layers: what each is, where its SQL lives, and how to fetch it as GeoJSON.

One definition per layer, so the map, exports and OGC API (later) never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from data.db import pooled, sql


@dataclass(frozen=True)
class Layer:
    """A map layer: a name, titles in both languages, its SQL file and fixed parameters."""

    name: str
    title: str
    title_en: str
    sql_name: str
    params: dict = field(default_factory=dict)


LAYERS: dict[str, Layer] = {layer.name: layer for layer in [
    Layer("towns", "乡镇", "Towns", "layer_grid_units", {"level": 2}),
    Layer("villages", "嘎查村", "Villages", "layer_grid_units", {"level": 3}),
    Layer("cells", "网格", "Grid cells", "layer_grid_units", {"level": 4}),
    Layer("banner", "旗界", "Banner boundary", "layer_grid_units", {"level": 1}),
    Layer("facilities", "服务设施", "Facilities", "layer_facilities"),
    Layer("roads", "道路", "Roads", "layer_roads"),
]}


class UnknownLayer(KeyError):
    """No layer has that name."""


def get(name: str) -> Layer:
    """The layer called ``name``; ``UnknownLayer`` lists the known ones."""
    try:
        return LAYERS[name]
    except KeyError:
        raise UnknownLayer(f"unknown layer {name!r}; known: {', '.join(sorted(LAYERS))}") from None


def geojson(dsn: str, name: str, region_code: str, scope: str) -> str:
    """The layer as GeoJSON FeatureCollection text, built in PostGIS, limited to the jurisdiction
    ``scope`` (a grid unit code; the region code for the whole county)."""
    layer = get(name)
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql(layer.sql_name), {"region_code": region_code, "scope": scope, **layer.params})
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
