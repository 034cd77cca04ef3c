"""Cutting a polygon into child units that tile it exactly (Voronoi cells clipped to the parent).

Coordinates are EPSG:4326 degrees. Seeds are spaced in a locally equidistant frame (longitude
scaled by cos(latitude)), so cells are not stretched east–west. The root is snapped to a 1 cm grid
once; the clipping itself runs in full floating precision, because snap-rounding the new vertices
would bend long parent edges by up to half a grid step (tens of m² on a 10 km edge), while full
precision keeps every child on its parent's edges to ~1e-15 degrees.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

GRID_DEG = 1e-7  # ~1 cm: the precision every generated boundary is snapped to
M_PER_DEG_LAT = 110_574.0


def snap(geom: BaseGeometry) -> BaseGeometry:
    """The geometry with its vertices on the shared precision grid, made valid."""
    return shapely.make_valid(shapely.set_precision(geom, GRID_DEG))


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Polygonal parts of ``geom`` as a MultiPolygon (drops slivers of lower dimension)."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    out: list[Polygon] = []
    for part in parts:
        out.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(out)


def lon_scale(lat_deg: float) -> float:
    """Metres per degree of longitude at a latitude (spherical approximation, for spacing)."""
    return 111_320.0 * float(np.cos(np.radians(lat_deg)))


def partition(parent: BaseGeometry, seeds: np.ndarray) -> list[MultiPolygon]:
    """Split ``parent`` into one MultiPolygon per seed (seeds must lie inside the parent).

    The pieces are the seeds' Voronoi cells (in the scaled frame) clipped to the parent; they
    cover it with no gap or overlap beyond the precision grid. Every piece is non-empty because
    its seed lies inside both its cell and the parent.
    """
    seeds = np.asarray(seeds, dtype=float)
    if len(seeds) == 1:
        return [as_multipolygon(parent)]
    lat0 = float(seeds[:, 1].mean())
    k = float(np.cos(np.radians(lat0)))
    scaled = MultiPoint(np.column_stack([seeds[:, 0] * k, seeds[:, 1]]))
    minx, miny, maxx, maxy = parent.bounds
    pad = max(maxx - minx, maxy - miny)
    envelope = shapely.box(minx * k - pad, miny - pad, maxx * k + pad, maxy + pad)
    cells = shapely.voronoi_polygons(scaled, extend_to=envelope, ordered=True)
    pieces = []
    for cell in cells.geoms:
        unscaled = shapely.transform(cell, lambda xy: xy / np.array([k, 1.0]))
        pieces.append(as_multipolygon(shapely.intersection(unscaled, parent)))
    return pieces


def sample_points(polygon: BaseGeometry, n: int, rng: np.random.Generator,
                  weight: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                  batch: int = 20_000) -> np.ndarray:
    """``n`` random points inside ``polygon``, with density ∝ ``weight(lon, lat)`` (max ≤ 1)."""
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        keep = shapely.contains_xy(polygon, x, y)
        if weight is not None:
            keep &= rng.random(batch) < weight(x, y)
        pts = np.column_stack([x[keep], y[keep]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def spaced_seeds(candidates: np.ndarray, n: int, min_spacing_m: float) -> np.ndarray:
    """Up to ``n`` candidates (in order) that keep at least ``min_spacing_m`` from each other.

    Halves the spacing until ``n`` are found, so it always returns ``n`` when there are enough
    distinct candidates.
    """
    lat0 = float(candidates[:, 1].mean())
    scale = np.array([lon_scale(lat0), M_PER_DEG_LAT])
    metres = candidates * scale
    spacing = min_spacing_m
    while True:
        chosen: list[int] = []
        for i, p in enumerate(metres):
            if not chosen or np.min(np.hypot(*(metres[chosen] - p).T)) >= spacing:
                chosen.append(i)
                if len(chosen) == n:
                    return candidates[chosen]
        spacing /= 2
        if spacing < 1:
            raise ValueError(f"cannot place {n} distinct seeds among {len(candidates)} candidates")


def kmeans_seeds(samples: np.ndarray, start: np.ndarray, rounds: int = 4) -> np.ndarray:
    """Lloyd iterations of ``start`` over ``samples``: seeds that split the samples' mass evenly.

    A seed is replaced by the sample nearest to its new centroid, so it stays inside the region
    the samples came from (a centroid of a concave region may fall outside it).
    """
    lat0 = float(samples[:, 1].mean())
    scale = np.array([lon_scale(lat0), M_PER_DEG_LAT])
    s = samples * scale
    c = start * scale
    for _ in range(rounds):
        d = ((s[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        nearest = d.argmin(axis=1)
        for j in range(len(c)):
            members = s[nearest == j]
            if len(members):
                centroid = members.mean(axis=0)
                c[j] = members[((members - centroid) ** 2).sum(axis=1).argmin()]
    seeds: np.ndarray = c / scale
    return seeds
