"""Routes on a small hand-made graph with known answers, and on the demo network.

The hand-made region 150699 (a 0.3° × 0.15° box near 100 E, 40 N) lives in its own throwaway
database so nothing else sees it. Its graph, along the parallel 40 N:

    A(100.00) ─ B(100.01) ─ C(100.02) ═▶ D(100.03)      测试大道 (60 km/h), 单行路 C→D one-way
                              ╲       ╱
                               F(100.025, 40.01)         绕行路 (40 km/h), both ways
    G(100.10) ─ H(100.11)                                孤立路: no link to the rest
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import psycopg2
import pytest
import shapely
from pyproj import Geod

from data.routing import Invalid, NotFound, Unreachable
from data.routing import route as R
from db.core import connect, upgrade

GEOD = Geod(ellps="WGS84")
REGION = "150699"
BOX = (99.95, 39.95, 100.25, 40.10)


def geod_m(coords) -> float:
    """Geodesic length in metres of a lon/lat polyline."""
    return float(GEOD.line_length([c[0] for c in coords], [c[1] for c in coords]))


def fresh_db(server_dsn: str, label: str):
    """A new migrated database on the test server; returns (dsn, drop())."""
    name = f"onemap_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(server_dsn.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
    dsn = server_dsn.rsplit("/", 1)[0] + "/" + name
    conn = connect(dsn)
    upgrade(conn)
    conn.close()

    def drop():
        if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return dsn, drop


def _box(x0, y0, x1, y1) -> bytes:
    return shapely.to_wkb(shapely.MultiPolygon([shapely.box(x0, y0, x1, y1)]))


def make_region(cur) -> None:
    """Region 150699 with a grid: a town-seat community cell (west) and a pastoral cell (east)."""
    cur.execute("INSERT INTO region (region_code, name) VALUES (%s, '测试旗')", (REGION,))
    units = [(REGION, 1, None, "测试旗", BOX),
             (REGION + "001", 2, REGION, "测试镇", BOX),
             (REGION + "001001", 3, REGION + "001", "测试社区", (99.95, 39.95, 100.05, 40.10)),
             (REGION + "001002", 3, REGION + "001", "测试嘎查", (100.05, 39.95, 100.25, 40.10)),
             (REGION + "001001001", 4, REGION + "001001", "测试社区第1网格", (99.95, 39.95, 100.05, 40.10)),
             (REGION + "001002001", 4, REGION + "001002", "测试嘎查第1网格", (100.05, 39.95, 100.25, 40.10))]
    for code, level, parent, name, box in units:
        cur.execute("INSERT INTO grid_unit (code, region_code, level, parent_code, name, geom, synthetic) "
                    "VALUES (%s, %s, %s, %s, %s, ST_SetSRID(ST_GeomFromWKB(%s), 4326), true)",
                    (code, REGION, level, parent, name, _box(*box)))
    cur.execute("INSERT INTO cell_population (cell_code, region_code, population, households) VALUES "
                "(%s, %s, 1000, 300), (%s, %s, 400, 120)",
                (REGION + "001001001", REGION, REGION + "001002001", REGION))


class Roads:
    """Adds edges to region 150699, giving each distinct end point one vertex id."""

    def __init__(self, cur):
        self.cur, self.ids = cur, {}

    def vertex(self, p) -> int:
        if p not in self.ids:
            self.ids[p] = int(REGION) * 10 ** 7 + 900 + len(self.ids)
            self.cur.execute("INSERT INTO road_vertex (id, region_code, geom) "
                             "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (self.ids[p], REGION, *p))
        return self.ids[p]

    def add(self, coords, name, kmh, road_class="county", oneway=False) -> int:
        length = geod_m(coords)
        cost = length / (kmh / 3.6)
        self.cur.execute(
            "INSERT INTO road_edge (region_code, source, target, cost, reverse_cost, length_m, road_class, name,"
            " speed_kmh, geom) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " ST_SetSRID(ST_GeomFromText(%s), 4326)) RETURNING id",
            (REGION, self.vertex(coords[0]), self.vertex(coords[-1]), cost, -1 if oneway else cost, length,
             road_class, name, kmh, shapely.LineString(coords).wkt))
        return self.cur.fetchone()[0]


A, B, C, D, F = (100.00, 40.0), (100.01, 40.0), (100.02, 40.0), (100.03, 40.0), (100.025, 40.01)
G, H = (100.10, 40.0), (100.11, 40.0)


def make_graph(cur) -> None:
    """The hand-made graph drawn in the module docstring."""
    roads = Roads(cur)
    roads.add([A, B], "测试大道", 60)
    roads.add([B, C], "测试大道", 60)
    roads.add([C, D], "单行路", 60, oneway=True)
    roads.add([D, F], "绕行路", 40, "township")
    roads.add([F, C], "绕行路", 40, "township")
    roads.add([G, H], "孤立路", 40, "township")


@pytest.fixture(scope="module")
def small_dsn(server_dsn):
    dsn, drop = fresh_db(server_dsn, "routing")
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        make_region(cur)
        make_graph(cur)
    conn.close()
    yield dsn
    drop()


@pytest.fixture
def small(small_dsn):
    conn = connect(small_dsn)
    yield conn
    conn.rollback()
    conn.close()


def pt(p, label="点"):
    return R.End(p[0], p[1], label)


def test_ends_snap_mid_edge_not_to_the_nearest_vertex(small):
    r = R.route(small, REGION, pt((100.005, 40.001)), pt((100.015, 40.0)))["properties"]
    assert r["from"]["snap_m"] == pytest.approx(111, abs=2)  # 0.001° of latitude north of the road
    assert r["from"]["snapped"] == pytest.approx([100.005, 40.0], abs=1e-9)
    expected = geod_m([(100.005, 40.0), (100.015, 40.0)])  # mid A–B to mid B–C, not vertex to vertex
    assert r["length_m"] == pytest.approx(expected, rel=1e-3)
    assert r["travel_s"] == pytest.approx(expected / (60 / 3.6), rel=1e-3)
    assert r["steps"][0]["text"].startswith("从点出发，离开道路前行约110米到达测试大道")
    assert any(s["road"] == "测试大道" for s in r["steps"])


def test_both_ends_on_one_edge(small):
    r = R.route(small, REGION, pt((100.012, 40.0)), pt((100.018, 40.0)))["properties"]
    assert r["length_m"] == pytest.approx(geod_m([(100.012, 40.0), (100.018, 40.0)]), rel=1e-3)
    assert [s["road"] for s in r["steps"][:-1]] == ["测试大道"]


def test_one_way_road_forces_a_detour(small):
    ahead = R.route(small, REGION, pt((100.021, 40.0)), pt((100.029, 40.0)))["properties"]
    assert ahead["length_m"] == pytest.approx(geod_m([(100.021, 40.0), (100.029, 40.0)]), rel=1e-3)
    back = R.route(small, REGION, pt((100.029, 40.0)), pt((100.021, 40.0)))["properties"]
    # on to D, round by F to C, then forward again along the one-way road
    detour = (geod_m([(100.029, 40.0), D]) + geod_m([D, F]) + geod_m([F, C]) + geod_m([C, (100.021, 40.0)]))
    assert back["length_m"] == pytest.approx(detour, rel=1e-3)
    roads = [s["road"] for s in back["steps"] if s["road"]]
    assert roads == ["单行路", "绕行路", "单行路"]
    assert all(s["turn"] in ("出发", "到达") or "转" in s["turn"] or "前方" in s["turn"] or s["turn"] == "掉头"
               for s in back["steps"])


def test_disconnected_piece_is_a_clear_error(small):
    with pytest.raises(Unreachable) as err:
        R.route(small, REGION, pt(A, "甲地"), pt((100.105, 40.0), "乙地"))
    assert "不连通" in err.value.message and err.value.status == 422


def test_point_far_from_roads_answers_with_the_distance(small):
    r = R.route(small, REGION, pt((99.985, 40.045)), pt((100.015, 40.0)))["properties"]
    assert r["from"]["snap_m"] == pytest.approx(geod_m([(99.985, 40.045), A]), rel=1e-3)  # ~5 km
    assert 5000 < r["from"]["snap_m"] < 5300
    assert r["length_m"] == pytest.approx(geod_m([A, (100.015, 40.0)]), rel=1e-3)
    assert r["offroad_s"] == pytest.approx(r["offroad_m"] / (5 / 3.6), rel=1e-3)
    assert r["total_s"] == pytest.approx(r["travel_s"] + r["offroad_s"], abs=0.2)


def test_no_road_within_reach_is_refused(small):
    with pytest.raises(Invalid) as err:
        R.route(small, REGION, pt((100.0, 40.5)), pt(A))
    assert err.value.extra["snap_m"] > 20_000


def test_bad_ends_are_refused(small):
    actor = type("Actor", (), {"region_code": REGION, "unit_code": REGION})()
    with pytest.raises(Invalid):
        R.resolve_origin(small, actor, "100.0")
    with pytest.raises(Invalid):
        R.resolve_origin(small, actor, "spaceship:1")
    with pytest.raises(NotFound):
        R.resolve_origin(small, actor, "facility:999999")
    with pytest.raises(NotFound):
        R.resolve_origin(small, actor, "department:nope")
    with pytest.raises(Invalid):
        R.resolve_destination(small, actor, "incident:not-a-uuid")


# -- the demo network ---------------------------------------------------------------------------

class Admin:
    region_code = unit_code = "150623"
    role, username, department_code, worker_id = "admin", "test", None, None


def _facility(conn, name):
    with conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM facility WHERE name = %s", (name,))
        return cur.fetchone()


def test_route_between_two_town_seats_is_plausible(demo_conn):
    a = _facility(demo_conn, "敖勒召其镇综治中心")
    b = _facility(demo_conn, "上海庙镇综治中心")
    r = R.route_for(demo_conn, Admin(), f"facility:{a[0]}", f"{b[1]},{b[2]}")
    p = r["properties"]
    straight = geod_m([a[1:], b[1:]])
    assert straight < p["length_m"] < 2 * straight
    assert p["length_m"] / (80 / 3.6) <= p["travel_s"] <= p["length_m"] / (25 / 3.6)
    coords = r["geometry"]["coordinates"]
    assert coords[0] == pytest.approx(list(a[1:]), abs=1e-6) and coords[-1] == pytest.approx(list(b[1:]), abs=1e-6)
    assert geod_m(coords) == pytest.approx(p["length_m"] + p["offroad_m"], rel=0.01)
    assert p["steps"][-1]["turn"] == "到达"


def test_responders_are_ranked_by_travel_time(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id FROM incident WHERE cell_code LIKE '150623002%%' ORDER BY id LIMIT 1")
        incident_id = cur.fetchone()[0]
        cur.execute("SELECT max(at) FROM worker_position")
        last_fix = cur.fetchone()[0]
    now = last_fix + timedelta(minutes=10)
    res = R.responders(demo_conn, Admin(), incident_id, now=now, limit=40)
    times = [i["total_s"] for i in res["items"]]
    assert times and times == sorted(times)
    kinds = {i["kind"] for i in res["items"]}
    assert "worker" in kinds and kinds & {"police_station", "governance_centre"}
    assert all(datetime.fromisoformat(i["fix_at"]) >= now - timedelta(hours=2)
               for i in res["items"] if i["kind"] == "worker")
    # the many-to-one ranking agrees with a one-to-one route from the best responder
    best = res["items"][0]
    one = R.route_for(demo_conn, Admin(), best["from"], f"incident:{incident_id}")["properties"]
    assert one["total_s"] == pytest.approx(best["total_s"], abs=0.5)
    # an old fix is no longer "on duty"
    later = R.responders(demo_conn, Admin(), incident_id, now=now + timedelta(hours=3), limit=40)
    assert all(i["kind"] != "worker" for i in later["items"])
