"""WGS84 ⇄ GCJ-02 datum shifts, vectorized with numpy.

GCJ-02 is the obfuscated datum of Chinese web maps (AMap, Tencent): WGS84 lon/lat moved by a
published, deterministic offset of 100–700 m. The forward shift (WGS84 → GCJ-02) is a closed
formula; it has no closed inverse. The usual one-step inverse (subtract the offset evaluated at the
GCJ-02 point) errs ~1 m and up to ~4 m, too much for grid boundaries that must meet GPS positions,
so :func:`gcj02_to_wgs84` iterates to a fixed point and reaches well under a millimetre.

All angles are degrees, longitude first. Points outside China's bounding box are not shifted
(the datum only applies inside China), matching what the map providers do.
"""
from __future__ import annotations

from typing import Callable, TypeAlias

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

Floats: TypeAlias = NDArray[np.float64]
# floats for scalar input, arrays (broadcast) otherwise
LonLat: TypeAlias = tuple[float, float] | tuple[Floats, Floats]
Geoms: TypeAlias = "shapely.Geometry | NDArray[np.object_]"

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323

# The customary "is this in China" box of the GCJ-02 implementations (lon 72.004–137.8347,
# lat 0.8293–55.8271); outside it coordinates pass through unchanged.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271


def _inside_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Boolean mask of points inside the GCJ-02 box (NaN counts as outside)."""
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 points, without the China test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    # The offsets above are "metres-ish" on the Krasovsky ellipsoid; turn them into degrees.
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return dlon, dlat


def _result(lon: Floats, lat: Floats, scalar: bool) -> LonLat:
    """Return floats for scalar input, arrays otherwise."""
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Shift WGS84 lon/lat (degrees, scalars or arrays) to GCJ-02; points outside China unchanged."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    dlon, dlat = _offset(lon_b, lat_b)
    inside = _inside_china(lon_b, lat_b)
    out_lon = np.where(inside, lon_b + dlon, lon_b)
    out_lat = np.where(inside, lat_b + dlat, lat_b)
    return _result(out_lon, out_lat, lon_a.ndim == 0 and lat_a.ndim == 0)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, tol_deg: float = 1e-10, max_iter: int = 30) -> LonLat:
    """Invert GCJ-02 lon/lat (degrees) to WGS84 by fixed-point iteration, to ``tol_deg`` degrees.

    Solves ``w + offset(w) = g`` with ``w ← g − offset(w)``. The offset's derivative is ~1e-5 per
    degree, so each step gains about five decimal digits: three steps reach 1e-10° (~0.01 mm).
    Points outside China (judged on the GCJ-02 input) are returned unchanged.
    """
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    scalar = g_lon.ndim == 0 and g_lat.ndim == 0
    g_lon, g_lat = np.broadcast_arrays(g_lon, g_lat)
    inside = _inside_china(g_lon, g_lat)
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()
    for _ in range(max_iter):
        # Points near the box edge are iterated without the box test, so they converge too.
        dlon, dlat = _offset(w_lon, w_lat)
        new_lon = g_lon - dlon
        new_lat = g_lat - dlat
        step = np.maximum(np.abs(new_lon - w_lon), np.abs(new_lat - w_lat))
        w_lon, w_lat = new_lon, new_lat
        if not np.any(step[inside] > tol_deg):  # NaN steps compare False: they cannot loop forever
            break
    out_lon = np.where(inside, w_lon, g_lon)
    out_lat = np.where(inside, w_lat, g_lat)
    return _result(out_lon, out_lat, scalar)


def _transform_geom(geom: Geoms, func: Callable[[Floats, Floats], LonLat]) -> Geoms:
    """Apply a lon/lat function to every vertex of a shapely geometry, keeping any Z."""

    def xy_func(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    # include_z=None keeps each geometry's own dimensionality (2D stays 2D, 3D keeps its Z).
    return shapely.transform(geom, xy_func, include_z=None)


def gcj02_to_wgs84_geom(geom: Geoms) -> Geoms:
    """A shapely geometry (or array of them) moved from GCJ-02 to WGS84 with the iterative inverse."""
    return _transform_geom(geom, gcj02_to_wgs84)


def wgs84_to_gcj02_geom(geom: Geoms) -> Geoms:
    """A shapely geometry (or array of them) moved from WGS84 to GCJ-02."""
    return _transform_geom(geom, wgs84_to_gcj02)
