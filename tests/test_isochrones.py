"""Isochrone containment and caching, coverage arithmetic, on hand-made region 150699.

A straight 60 km/h road runs east along 40.08 N from a police station at its west end, so the
time to any point on it is its distance along the road / (60 km/h).
"""
from __future__ import annotations

from itertools import pairwise

import pytest
import shapely
from pyproj import Geod
from test_routing import REGION, Roads, fresh_db, make_region

from data.routing import reach
from db.core import connect

LAT = 40.08
START = (99.96, LAT)
GEOD = Geod(ellps="WGS84")
M_PER_DEG = float(GEOD.line_length([0, 1], [LAT, LAT]))


def at_minutes(minutes: float, north_m: float = 0.0) -> tuple[float, float]:
    """The point ``minutes`` along the road from the station at 60 km/h, ``north_m`` off it."""
    return START[0] + minutes * 1000 / M_PER_DEG, LAT + north_m / 111_000


class Actor:
    region_code = unit_code = REGION


@pytest.fixture(scope="module")
def iso_dsn(server_dsn):
    dsn, drop = fresh_db(server_dsn, "iso")
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        make_region(cur)
        roads = Roads(cur)
        xs = [START[0] + 0.02 * i for i in range(15)]  # to 100.24, about 24 km
        for x0, x1 in pairwise(xs):
            roads.add([(x0, LAT), (x1, LAT)], "东西大道", 60)
        cur.execute("INSERT INTO facility (region_code, kind, name, geom) "
                    "VALUES (%s, 'police_station', '测试派出所', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                    (REGION, *START))
    conn.close()
    yield dsn
    drop()


@pytest.fixture
def iso(iso_dsn):
    conn = connect(iso_dsn)
    reach.ensure(conn, REGION, "police_station", 10)
    reach.ensure(conn, REGION, "police_station", 30)
    yield conn
    conn.rollback()
    conn.close()


def polygon(conn, minutes):
    with conn.cursor() as cur:
        cur.execute("SELECT ST_AsBinary(geom) FROM isochrone WHERE region_code = %s AND kind = 'police_station'"
                    " AND minutes = %s", (REGION, minutes))
        return shapely.from_wkb(bytes(cur.fetchone()[0]))


def test_ten_minutes_inside_thirty(iso):
    ten, thirty = polygon(iso, 10), polygon(iso, 30)
    assert ten.area > 0 and ten.difference(thirty).area < 1e-9 * ten.area
    assert thirty.area > 2 * ten.area


def test_own_location_inside(iso):
    for m in (10, 30):
        assert polygon(iso, m).contains(shapely.Point(START))


def test_reach_along_the_road(iso):
    ten, thirty = polygon(iso, 10), polygon(iso, 30)
    assert ten.contains(shapely.Point(at_minutes(8)))
    assert not ten.contains(shapely.Point(at_minutes(12)))
    assert thirty.contains(shapely.Point(at_minutes(12)))
    # the road ends ~24 km out with ~6 minutes left: about 500 m of off-road margin beyond its end
    end = START[0] + 0.28
    assert thirty.contains(shapely.Point(end + 300 / M_PER_DEG, LAT))
    assert not thirty.contains(shapely.Point(end + 1000 / M_PER_DEG, LAT))


def test_off_road_margin_shrinks_with_time_left(iso):
    ten = polygon(iso, 10)
    # 8 minutes left at 2 minutes out: 8 × 5 km/h ≈ 667 m; 1 minute left at 9 minutes: ≈ 83 m
    assert ten.contains(shapely.Point(at_minutes(2, north_m=500)))
    assert not ten.contains(shapely.Point(at_minutes(9, north_m=500)))
    # not a hull: nothing far north of the road's far reach
    assert not ten.contains(shapely.Point(at_minutes(5, north_m=2000)))


def test_cache_goes_stale_when_facilities_change(iso):
    assert reach.ensure(iso, REGION, "police_station", 10) is False
    with iso.cursor() as cur:
        cur.execute("INSERT INTO facility (region_code, kind, name, geom) VALUES "
                    "(%s, 'police_station', '新派出所', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                    (REGION, *at_minutes(20)))
    iso.commit()
    try:
        assert reach.ensure(iso, REGION, "police_station", 10) is True
        assert polygon(iso, 10).contains(shapely.Point(at_minutes(20)))
    finally:
        with iso.cursor() as cur:
            cur.execute("DELETE FROM facility WHERE name = '新派出所'")
        iso.commit()
    assert reach.ensure(iso, REGION, "police_station", 10) is True


def test_coverage_arithmetic(iso_dsn):
    """Town cell (测试社区, 1000 residents) half inside its 10-minute circle; pastoral cell
    (测试嘎查, 400) nine tenths inside its 30-minute circle: 860 of 1400 covered, one gap."""
    conn = connect(iso_dsn)
    try:
        with conn.cursor() as cur:
            for minutes, box in ((10, (99.95, 39.95, 100.00, 40.10)), (30, (100.05, 39.95, 100.23, 40.10))):
                cur.execute("INSERT INTO isochrone (region_code, kind, minutes, geom, facilities, source_hash) "
                            "VALUES (%s, 'clinic', %s, ST_SetSRID(ST_GeomFromWKB(%s), 4326), 0, %s)",
                            (REGION, minutes, shapely.to_wkb(shapely.MultiPolygon([shapely.box(*box)])),
                             reach.source_hash(conn, REGION, "clinic", minutes)))
        result = reach.coverage(conn, Actor(), "clinic")
        cells = {c["code"]: c for c in result["cells"]}
        town, pastoral = cells[REGION + "001001001"], cells[REGION + "001002001"]
        assert (town["type"], town["minutes"], pastoral["type"], pastoral["minutes"]) == ("town", 10, "pastoral", 30)
        assert town["share"] == pytest.approx(0.5, abs=1e-4) and town["gap"]
        assert pastoral["share"] == pytest.approx(0.9, abs=1e-4) and not pastoral["gap"]
        assert result["kpi"]["covered"] == pytest.approx(860, abs=0.5)
        assert result["kpi"]["share"] == pytest.approx(860 / 1400, abs=1e-4)
        assert result["kpi"]["gap_cells"] == 1 and result["kpi"]["gap_population"] == pytest.approx(500, abs=0.5)
        gaps = reach.coverage_gaps(conn, Actor(), "clinic")
        [feature] = gaps["features"]
        uncovered = shapely.geometry.shape(feature["geometry"])
        assert uncovered.equals_exact(shapely.box(100.00, 39.95, 100.05, 40.10), 1e-6) or \
            uncovered.symmetric_difference(shapely.box(100.00, 39.95, 100.05, 40.10)).area < 1e-9
    finally:
        conn.rollback()
        conn.close()


def test_suggestion_reaches_uncovered_residents(iso_dsn):
    """With only the west-end station, the far east is a gap; one more station goes east."""
    conn = connect(iso_dsn)
    try:
        answer = reach.suggest(conn, Actor(), "police_station")
        assert answer["picks"], answer
        best = answer["picks"][0]
        assert best["lon"] > at_minutes(10)[0]
        assert 0 < best["gap_population_reached"] <= answer["kpi"]["gap_population"] + 0.5
        assert answer["kpi_after"] > answer["kpi"]["share"]
    finally:
        conn.rollback()
        conn.close()
