"""OSM XML import: splitting at shared nodes, speeds and their stated defaults, one-way roads,
and refusals that leave the previous network untouched."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_routing import REGION, fresh_db, make_graph, make_region

from data.osm_import import ImportRefused, import_osm, parse_speed
from data.routing import route as R
from db.core import connect

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def osm_dsn(server_dsn):
    dsn, drop = fresh_db(server_dsn, "osm")
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        make_region(cur)
        make_graph(cur)
    conn.close()
    yield dsn
    drop()


def network(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, source, target, cost, reverse_cost, road_class, name, speed_kmh "
                    "FROM road_edge WHERE region_code = %s ORDER BY id", (REGION,))
        return cur.fetchall()


@pytest.mark.parametrize("name, message", [
    ("osm_malformed.osm", "not well-formed"),
    ("osm_no_highways.osm", "no highway ways"),
    ("osm_outside.osm", "inside region"),
    ("missing.osm", "no such file"),
])
def test_refusals_leave_the_network_intact(osm_dsn, name, message):
    conn = connect(osm_dsn)
    try:
        before = network(conn)
        with pytest.raises(ImportRefused, match=message):
            import_osm(conn, DATA / name, REGION)
        conn.rollback()
        assert network(conn) == before and before
    finally:
        conn.close()


def test_parse_speed():
    assert parse_speed("60") == 60 and parse_speed("60 km/h") == 60
    assert parse_speed("25 mph") == pytest.approx(40.23, abs=0.01)
    assert parse_speed("CN:rural") is None and parse_speed("none") is None and parse_speed(None) is None


def test_import_replaces_the_network(osm_dsn):
    conn = connect(osm_dsn)
    try:
        report = import_osm(conn, DATA / "osm_small.osm", REGION)
        edges = network(conn)
        # way 10 splits at node 2 (way 12 starts there): 2 + 1 (way 11) + 1 (12) + 1 (13) = 5
        assert report.edges == len(edges) == 5 and report.vertices == 6
        by_name = {}
        for e in edges:
            by_name.setdefault(e[6], []).append(e)
        assert len(by_name["测试一路"]) == 2 and all(e[7] == 60 and e[5] == "provincial" for e in by_name["测试一路"])
        assert by_name["X611"][0][7] == 60 and by_name["X611"][0][5] == "county"  # secondary default, named by ref
        oneway = [e for e in edges if e[5] == "urban"]
        assert len(oneway) == 1 and oneway[0][4] == -1 and oneway[0][7] == pytest.approx(40.23, abs=0.01)
        assert report.defaults_used == {"secondary": 1, "track": 1}
        assert report.ignored_tags == {"footway": 1}
        assert any("default 60 km/h for highway=secondary" in line for line in report.lines())
        # the imported network routes: from mid 测试一路 to the end of X611
        r = R.route(conn, REGION, R.End(100.005, 40.0, "起点"), R.End(100.02, 40.01, "终点"))["properties"]
        assert [s["road"] for s in r["steps"] if s["road"]] == ["测试一路", "X611"]
    finally:
        conn.close()


def test_bend_nodes_become_line_vertices(osm_dsn):
    """A real-shaped extract: most nodes are bends; each edge keeps them as vertices, the length
    follows the curve, and the network routes along it."""
    from test_routing import geod_m

    conn = connect(osm_dsn)
    try:
        report = import_osm(conn, DATA / "osm_bends.osm", REGION)
        with conn.cursor() as cur:
            cur.execute("SELECT name, road_class, ST_NPoints(geom), length_m, "
                        "ST_AsText(ST_StartPoint(geom)), ST_AsText(ST_EndPoint(geom)), "
                        "(SELECT array_agg(ARRAY[ST_X(d.geom), ST_Y(d.geom)]) FROM ST_DumpPoints(e.geom) d) "
                        "FROM road_edge e WHERE region_code = %s ORDER BY ST_NPoints(geom), name", (REGION,))
            edges = cur.fetchall()
        # way 100 splits at node 12 (where the track starts): 1-11-12 and 12-13-2; way 101 keeps
        # its two bends (4 vertices), the track its three (5 vertices)
        assert report.edges == len(edges) == 4 and report.vertices == 5
        assert [(e[0], e[2]) for e in edges] == [("弯道路", 3), ("弯道路", 3), ("X612", 4), (None, 5)]
        track = next(e for e in edges if e[1] == "track")
        assert track[2] == 5 and track[6][1] == [100.009, 40.01]  # bend node 31, in order
        for e in edges:  # the stored length is the curve's, longer than the chord
            assert e[3] == pytest.approx(geod_m(e[6]), rel=1e-6)
            assert e[3] > geod_m([e[6][0], e[6][-1]])
        assert report.ignored_tags == {"footway": 1}
        r = R.route(conn, REGION, R.End(100.0, 40.0, "起点"), R.End(100.012, 40.025, "浩特"))["properties"]
        assert [s["road"] for s in r["steps"] if s["road"]][:1] == ["弯道路"]
        assert r["length_m"] == pytest.approx(sum(e[3] for e in edges if e[2] == 3 and e[0] == "弯道路"
                                                  and e[6][0] == [100.0, 40.0]) + track[3], rel=0.01)
    finally:
        conn.close()


def test_cli_roads_import_exit_codes(osm_dsn, monkeypatch):
    """`onemap roads import`: a real-shaped extract imports (exit 0); a refusal exits 2 with its reason."""
    from click.testing import CliRunner

    from app import cli

    monkeypatch.setenv("DATABASE_URL", osm_dsn)
    r = CliRunner().invoke(cli, ["roads", "import", str(DATA / "osm_bends.osm"), "--region", REGION])
    assert r.exit_code == 0, r.output
    assert "4 edges" in r.output
    r = CliRunner().invoke(cli, ["roads", "import", str(DATA / "osm_outside.osm"), "--region", REGION])
    assert r.exit_code == 2 and "refused" in r.output and "inside region" in r.output
    monkeypatch.setenv("ONEMAP_IMPORT_MAX_MB", "0.001")  # 1 kB: the fixture is larger
    r = CliRunner().invoke(cli, ["roads", "import", str(DATA / "osm_bends.osm"), "--region", REGION])
    assert r.exit_code == 2 and "ONEMAP_IMPORT_MAX_MB" in r.output
