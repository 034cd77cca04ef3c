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


def geojson(dsn: str, name: str, region_code: str) -> str:
    """The layer as a GeoJSON FeatureCollection text, built in PostGIS."""
    layer = get(name)
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql(layer.sql_name), {"region_code": region_code, **layer.params})
        return cur.fetchone()[0]


def summary(dsn: str, region_code: str) -> dict:
    """Headline counts for the region (grid, people, incidents)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("summary_counts"), {"region_code": region_code})
        cols = [c.name for c in cur.description]
        return dict(zip(cols, cur.fetchone()))


def extent(dsn: str, region_code: str) -> list[list[float]] | None:
    """The region's bounds as Leaflet wants them, [[south, west], [north, east]], or None if empty."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("region_extent"), {"region_code": region_code})
        xmin, ymin, xmax, ymax = cur.fetchone()
    return None if xmin is None else [[ymin, xmin], [ymax, xmax]]
