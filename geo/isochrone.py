"""Isochrone assembly (pure geometry, no I/O): how far along an edge the remaining time reaches,
and the off-road margin around what was reached.

The margin around a reached stretch is a *tapered* buffer: at each point the radius is the time
left there times the off-road speed, so it shrinks to nothing where the time runs out. For a
straight segment whose radius changes linearly, the union of those circles is exactly the convex
hull of the circles at its two ends; a polyline is the union of its segments' hulls. Metres are
in a local azimuthal equidistant projection centred on the input (CRS stated, never guessed).
"""
from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

MIN_RADIUS_M = 1.0  # a reached road keeps a sliver of width even where the time runs out


def local_transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    """(to metres, back to lon/lat) for an azimuthal equidistant projection centred at lon0, lat0."""
    aeqd = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs"
    return (Transformer.from_crs("EPSG:4326", aeqd, always_xy=True),
            Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True))


def reached_part(xy: np.ndarray, cost_s: float, remaining_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of a polyline (metres, in travel order) reached with ``remaining_s`` seconds left at
    its start, when driving all of it takes ``cost_s``; returns (vertices, seconds left at each)."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    total = float(seg.sum())
    if total == 0 or cost_s <= 0:
        return xy[:1], np.array([remaining_s])
    along = np.concatenate([[0.0], np.cumsum(seg)]) * (cost_s / total)  # seconds to each vertex
    left = remaining_s - along
    if left[-1] >= 0:
        return xy, left
    k = int(np.argmax(left < 0))  # first vertex out of reach; cut between k-1 and k
    t = left[k - 1] / (left[k - 1] - left[k])
    cut = xy[k - 1] + (xy[k] - xy[k - 1]) * t
    return np.vstack([xy[:k], cut]), np.concatenate([left[:k], [0.0]])


def tapered_buffer(xy: np.ndarray, radii: np.ndarray, quad_segs: int = 8) -> shapely.Geometry:
    """Union of circles of linearly varying radius along a polyline (metres)."""
    radii = np.maximum(radii, MIN_RADIUS_M)
    circles = shapely.buffer(shapely.points(xy), radii, quad_segs=quad_segs)
    if len(xy) == 1:
        return circles[0]
    hulls = shapely.convex_hull(shapely.union(circles[:-1], circles[1:]))
    return shapely.union_all(hulls)


def reach_polygon(parts: list[tuple[np.ndarray, np.ndarray]], offroad_mps: float, back: Transformer,
                  quad_segs: int = 8) -> shapely.Geometry:
    """The reach polygon in lon/lat from reached parts (metres, seconds left at each vertex)."""
    pieces = []
    for xy, left in parts:
        radii = np.maximum(left, 0) * offroad_mps
        circles = shapely.buffer(shapely.points(xy), np.maximum(radii, MIN_RADIUS_M), quad_segs=quad_segs)
        if len(xy) == 1:
            pieces.append(circles)
        else:
            pieces.append(shapely.convex_hull(shapely.union(circles[:-1], circles[1:])))
    if not pieces:
        return shapely.Polygon()
    merged = shapely.union_all(np.concatenate(pieces))
    return shapely.transform(merged, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
