"""GCJ-02 datum shift: forward formula, iterative inverse accurate to millimetres, geometries."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.datum import gcj02_to_wgs84, gcj02_to_wgs84_geom, wgs84_to_gcj02, wgs84_to_gcj02_geom

GEOD = Geod(ellps="WGS84")
OLJOQ = (107.4751, 38.1798)  # banner seat of Otog Front Banner, WGS84 (GeoNames)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between point arrays."""
    _, _, dist = GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
    return np.asarray(dist)


def test_known_point_beijing():
    # A widely published pair (Tiananmen): the same formula in every GCJ-02 library.
    lon, lat = wgs84_to_gcj02(116.397128, 39.916527)
    assert lon == pytest.approx(116.4033725, abs=1e-6)
    assert lat == pytest.approx(39.9179307, abs=1e-6)


def test_offset_at_otog_front_banner_is_a_few_hundred_metres():
    lon, lat = wgs84_to_gcj02(*OLJOQ)
    offset = float(metres(OLJOQ[0], OLJOQ[1], lon, lat))
    assert 200 < offset < 800
    # The shift there is to the north-east (both coordinates grow).
    assert lon > OLJOQ[0] and lat > OLJOQ[1]


def test_round_trip_across_china_under_a_centimetre():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.5, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.5, 20_000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.01


def test_round_trip_otog_front_banner_under_a_millimetre():
    lon, lat = np.meshgrid(np.linspace(106.4, 108.6, 120), np.linspace(37.6, 38.9, 80))
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert back_lon.shape == lon.shape
    assert metres(lon.ravel(), lat.ravel(), back_lon.ravel(), back_lat.ravel()).max() < 0.001


def test_iterative_inverse_beats_the_one_step_inverse():
    # The one-step inverse (g - offset(g)) is what common packages ship; it errs around a metre.
    lon, lat = np.meshgrid(np.linspace(106.4, 108.6, 30), np.linspace(37.6, 38.9, 30))
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(g_lon, g_lat)
    one_lon, one_lat = g_lon - (f_lon - g_lon), g_lat - (f_lat - g_lat)
    one_step_err = metres(lon.ravel(), lat.ravel(), one_lon.ravel(), one_lat.ravel()).max()
    it_lon, it_lat = gcj02_to_wgs84(g_lon, g_lat)
    iterative_err = metres(lon.ravel(), lat.ravel(), it_lon.ravel(), it_lat.ravel()).max()
    assert one_step_err > 0.1
    assert iterative_err < one_step_err / 1000


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(73.5, 135.0), lat=st.floats(18.0, 53.5))
def test_round_trip_property(lon, lat):
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert float(metres(lon, lat, back_lon, back_lat)) < 0.01


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(73.5, 135.0), lat=st.floats(18.0, 53.5))
def test_inverse_then_forward_property(lon, lat):
    # Whatever GCJ-02 point comes in, the WGS84 answer maps back onto it.
    w_lon, w_lat = gcj02_to_wgs84(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    assert float(metres(lon, lat, f_lon, f_lat)) < 0.01


@given(lon=st.floats(-180, 180), lat=st.floats(-90, 90))
def test_outside_china_passes_through(lon, lat):
    outside = not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)
    if not outside:
        return
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_outside_china_passthrough_in_arrays():
    lon = np.array([2.35, -74.0, 107.4751])
    lat = np.array([48.86, 40.7, 38.1798])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon[:2].tolist() == lon[:2].tolist() and g_lat[:2].tolist() == lat[:2].tolist()
    assert g_lon[2] != lon[2]


def test_scalars_give_floats_and_nan_passes():
    lon, lat = gcj02_to_wgs84(107.48, 38.18)
    assert isinstance(lon, float) and isinstance(lat, float)
    n_lon, n_lat = gcj02_to_wgs84(np.array([np.nan, 107.48]), np.array([38.0, 38.18]))
    assert np.isnan(n_lon[0]) and np.isfinite(n_lon[1])


def test_geometry_round_trip_keeps_shape_and_z():
    poly = shapely.Polygon([(107.0, 38.0), (107.2, 38.0), (107.2, 38.2), (107.0, 38.2)],
                           holes=[[(107.05, 38.05), (107.1, 38.05), (107.1, 38.1)]])
    gcj = wgs84_to_gcj02_geom(poly)
    assert gcj.geom_type == "Polygon" and len(gcj.interiors) == 1
    # a few hundred metres of shift: the shapes no longer coincide
    assert not gcj.equals_exact(poly, 1e-4)
    back = gcj02_to_wgs84_geom(gcj)
    assert back.equals_exact(poly, 1e-9)
    point_z = gcj02_to_wgs84_geom(shapely.Point(107.48, 38.18, 1200.0))
    assert point_z.has_z and point_z.z == 1200.0


def test_geometry_arrays_and_multipolygons():
    multi = shapely.MultiPolygon([shapely.box(107.0, 38.0, 107.1, 38.1), shapely.box(108.0, 38.0, 108.1, 38.1)])
    out = gcj02_to_wgs84_geom(np.array([multi, shapely.Point(2.35, 48.86)]))
    assert out[0].geom_type == "MultiPolygon" and len(out[0].geoms) == 2
    assert out[1].equals(shapely.Point(2.35, 48.86))
