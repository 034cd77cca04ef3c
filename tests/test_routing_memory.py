"""The in-memory routing graph (data/routing/graph.py) against pgRouting, the reference: the same
cost (within 1e-6 s) and the same reachability between mid-edge ends, on the demo network and on a
generated grid with one-way streets, uneven speeds and a piece cut off from the rest; responders
ranked alike; the graph reloads when the roads change (version bumped by 0034's trigger) and not
otherwise."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from test_routing import REGION, Roads, fresh_db, make_region

from data.routing import graph
from data.routing import route as R
from db.core import connect

ENGINES = ("memory", "pgrouting")


@pytest.fixture(autouse=True, params=["all-pairs", "dijkstra"])
def search_kind(request, monkeypatch):
    """Every test twice: small graphs with their all-pairs table, and with a Dijkstra per query."""
    monkeypatch.setattr(graph, "APSP_MAX", graph.APSP_MAX if request.param == "all-pairs" else 0)
    graph._graphs.clear()
    yield request.param
    graph._graphs.clear()


def _pieces(conn, region, p, q):
    """Both engines' pieces between two points (snapped once), and the snaps."""
    a, b = R.snap(conn, region, [p, q])
    return (R._pieces_memory(R.region_graph(conn, region), a, b), R._pieces_pgrouting(conn, region, a, b), a, b)


def _same(conn, region, p, q, coords=True):
    mem, pgr, a, b = _pieces(conn, region, p, q)
    assert bool(mem) == bool(pgr), (p, q, a, b)  # same reachability
    if not pgr:
        return None
    cost_m, cost_p = sum(x.seconds for x in mem), sum(x.seconds for x in pgr)
    assert cost_m == pytest.approx(cost_p, abs=1e-6), (p, q)
    if coords:  # no ties on real roads: the same path, piece by piece
        assert sum(x.length_m for x in mem) == pytest.approx(sum(x.length_m for x in pgr), abs=1e-6)
        flat = lambda ps: [c for x in ps for c in x.coords]
        assert np.allclose(_dedup(flat(mem)), _dedup(flat(pgr)), atol=2e-7)
    return cost_p


def _dedup(cs):
    out = []
    for c in cs:
        if not out or abs(out[-1][0] - c[0]) > 1e-9 or abs(out[-1][1] - c[1]) > 1e-9:
            out.append(c)
    return out


def _more_roads(cur) -> Roads:
    """Roads of region 150699 that know the junctions already stored (new ones get new ids)."""
    roads = Roads(cur)
    cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM road_vertex WHERE region_code = %s", (REGION,))
    roads.ids = {(x, y): i for i, x, y in cur.fetchall()}
    return roads


def _points(conn, region, n, rng, jitter):
    """n points near the region's roads: a random point of a random edge, moved up to ``jitter`` degrees."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, %s) p FROM road_edge "
                    "WHERE region_code = %s ORDER BY id) e", (0.37, region))
        base = np.array(cur.fetchall())
    idx = rng.choice(len(base), n)
    return [(float(x + dx), float(y + dy)) for (x, y), dx, dy in
            zip(base[idx], rng.uniform(-jitter, jitter, n), rng.uniform(-jitter, jitter, n), strict=True)]


def test_demo_network_same_costs_and_paths_as_pgrouting(demo_conn):
    rng = np.random.default_rng(7)
    pts = _points(demo_conn, "150623", 60, rng, 0.01)
    found = sum(_same(demo_conn, "150623", pts[i], pts[i + 1]) is not None for i in range(0, 60, 2))
    assert found >= 25  # most pairs connect; those that do not agree on that too


def test_memory_snap_equals_the_sql_snap(demo_conn):
    rng = np.random.default_rng(13)
    pts = _points(demo_conn, "150623", 150, rng, 0.05)  # near roads and up to ~5 km off them
    sql_snaps = R.snap(demo_conn, "150623", pts)
    mem_snaps = R.snap_memory(R.region_graph(demo_conn, "150623"), pts)
    for p, a, b in zip(pts, sql_snaps, mem_snaps, strict=True):
        assert b.edge == a.edge, p
        assert b.frac == pytest.approx(a.frac, abs=1e-9) and b.dist_m == pytest.approx(a.dist_m, abs=0.5)
        assert (b.lon, b.lat) == pytest.approx((a.lon, a.lat), abs=1e-9)


def test_route_answers_match_on_the_demo_network(demo_conn):
    rng = np.random.default_rng(3)
    pts = _points(demo_conn, "150623", 10, rng, 0.005)
    for p, q in zip(pts[::2], pts[1::2], strict=True):
        answers = []
        for engine in ENGINES:
            try:
                answers.append(R.route(demo_conn, "150623", R.End(*p, "甲"), R.End(*q, "乙"), engine=engine))
            except R.Unreachable:
                answers.append(None)
        mem, pgr = answers
        assert (mem is None) == (pgr is None)
        if mem is not None:
            keys = ("travel_s", "length_m", "offroad_m", "total_s")
            assert [mem["properties"][k] for k in keys] == pytest.approx([pgr["properties"][k] for k in keys],
                                                                       abs=0.11)
            assert [s["road"] for s in mem["properties"]["steps"]] == [s["road"] for s in pgr["properties"]["steps"]]


def test_responders_ranked_alike(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT id FROM incident ORDER BY id LIMIT 3")
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT max(at) FROM worker_position")
        now = cur.fetchone()[0]

    class Admin:
        region_code = unit_code = "150623"
        role, username, department_code, worker_id = "admin", "test", None, None

    for incident_id in ids:
        mem, pgr = (R.responders(demo_conn, Admin(), incident_id, now=now, limit=40, engine=e) for e in ENGINES)
        assert [(i["ref"], i["travel_s"]) for i in mem["items"]] == [(i["ref"], i["travel_s"]) for i in pgr["items"]] \
            or [i["travel_s"] for i in mem["items"]] == [i["travel_s"] for i in pgr["items"]]  # ties may swap
        assert {e["ref"] for e in mem["unreachable"]} == {e["ref"] for e in pgr["unreachable"]}


def test_many_to_one_costs_equal_pgrouting(demo_conn):
    rng = np.random.default_rng(11)
    pts = _points(demo_conn, "150623", 21, rng, 0.003)
    snaps = R.snap(demo_conn, "150623", pts)
    target, starts = snaps[0], {-(i + 2): (i, s) for i, s in enumerate(snaps[1:])}
    vsnaps = [{"vid": -1, "edge": target.edge, "frac": target.frac}] + \
        [{"vid": v, "edge": s.edge, "frac": s.frac} for v, (_, s) in starts.items()]
    site = R.End(*pts[0], "site")
    mem = R._costs_memory(R.region_graph(demo_conn, "150623"), target, starts)
    pgr = R._costs_pgrouting(demo_conn, "150623", site, snaps, vsnaps, starts)
    assert set(mem) >= set(pgr)  # a start on the target's own point: no pgRouting row, cost 0 here
    for vid in mem:
        assert mem[vid][0] == pytest.approx(pgr.get(vid, (0.0, 0.0))[0], abs=1e-6)


# -- a generated grid: one-way streets, uneven speeds, an island --------------------------------------

N = 14
LON0, LAT0, STEP = 100.0, 40.0, 0.004


@pytest.fixture(scope="module")
def grid_dsn(server_dsn):
    dsn, drop = fresh_db(server_dsn, "routegrid")
    rng = np.random.default_rng(5)
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        make_region(cur)
        roads = Roads(cur)
        at = lambda i, j: (round(LON0 + j * STEP, 6), round(LAT0 + i * STEP, 6))  # noqa: E731
        for i in range(N):
            for j in range(N):
                for di, dj in ((0, 1), (1, 0)):
                    if i + di < N and j + dj < N and rng.random() > 0.08:  # some blocks have no street
                        kmh = float(rng.choice([20, 30, 40, 60, 80]))
                        mid = ((at(i, j)[0] + at(i + di, j + dj)[0]) / 2 + rng.uniform(-5e-4, 5e-4),
                               (at(i, j)[1] + at(i + di, j + dj)[1]) / 2 + rng.uniform(-5e-4, 5e-4))
                        roads.add([at(i, j), mid, at(i + di, j + dj)], f"街{i}-{j}", kmh, oneway=rng.random() < 0.25)
        island = (LON0 + 0.2, LAT0)  # a piece of road linked to nothing
        roads.add([island, (island[0] + STEP, LAT0)], "孤岛路", 30)
    conn.close()
    yield dsn
    drop()


@pytest.fixture
def grid(grid_dsn):
    conn = connect(grid_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


def test_grid_same_costs_and_reachability_as_pgrouting(grid):
    rng = np.random.default_rng(9)
    pts = _points(grid, REGION, 80, rng, 0.0015)  # mid-edge, off the road
    pts += [(LON0 + 0.2 + STEP / 3, LAT0 + 1e-4), (LON0 + 0.01, LAT0 + 0.01)]  # the island, and the grid
    for i in range(0, len(pts), 2):
        _same(grid, REGION, pts[i], pts[i + 1], coords=False)
    mem, pgr, _, _ = _pieces(grid, REGION, pts[-2], pts[-1])
    assert mem == [] and pgr == []  # the island is unreachable for both


def test_grid_both_ends_on_one_one_way_edge(grid):
    with grid.cursor() as cur:
        cur.execute("SELECT id, ST_AsBinary(geom) FROM road_edge WHERE region_code = %s AND reverse_cost < 0 ORDER BY id LIMIT 3",
                    (REGION,))
        for _, wkb in cur.fetchall():
            line = shapely.from_wkb(bytes(wkb))
            p, q = line.interpolate(0.3, normalized=True), line.interpolate(0.7, normalized=True)
            _same(grid, REGION, (p.x, p.y), (q.x, q.y), coords=False)  # ahead: along the edge
            _same(grid, REGION, (q.x, q.y), (p.x, p.y), coords=False)  # back: round the block, or no way


def test_graph_reloads_when_roads_change_and_only_then(grid_dsn, grid, search_kind):
    row = {"all-pairs": 3, "dijkstra": 6}[search_kind]  # each run its own island, off the grid's east side
    y = round(LAT0 + row * STEP, 6)
    east = (round(LON0 + (N - 1) * STEP, 6), y)
    island = [(LON0 + 0.3, y), (LON0 + 0.3 + STEP, y)]
    owner = connect(grid_dsn)
    with owner, owner.cursor() as cur:
        _more_roads(cur).add(island, f"岛路{row}", 30)
    p, q = (LON0 + 0.3 + STEP / 2, y + 1e-4), (LON0 + 0.01, LAT0 + 0.0001)
    with pytest.raises(R.Unreachable):
        R.route(grid, REGION, R.End(*p, "岛"), R.End(*q, "网"))
    held = graph.current(grid, REGION, graph.version_of(grid, REGION))
    R.route(grid, REGION, R.End(*q, "网"), R.End(LON0 + 0.02, LAT0 + 0.02, "网2"))
    assert graph.current(grid, REGION, held.version) is held  # no change: the same graph object
    with owner, owner.cursor() as cur:  # a bridge from the island to the grid's east side, committed
        _more_roads(cur).add([island[0], east], f"新桥{row}", 60)
    owner.close()
    r = R.route(grid, REGION, R.End(*p, "岛"), R.End(*q, "网"))  # the version query sees the bridge
    assert f"新桥{row}" in [s["road"] for s in r["properties"]["steps"]]
    now = graph.version_of(grid, REGION)
    assert now != held.version and graph.cached()[graph._key(grid, REGION)] == now
    _same(grid, REGION, p, q, coords=False)


def test_a_rolled_back_change_is_never_taken_for_the_network(grid_dsn):
    conn = connect(grid_dsn)
    p, q = (LON0 + 0.15, LAT0 + 0.1001), (LON0 + 0.1, LAT0 + 0.1001)  # both beside the draft road
    with conn.cursor() as cur:  # uncommitted: this transaction sees a road the others do not
        _more_roads(cur).add([(LON0 + 0.2, LAT0 + 0.1), (LON0 + 0.06, LAT0 + 0.1)], "草图路", 60)
    r = R.route(conn, REGION, R.End(*p, "甲"), R.End(*q, "乙"))
    assert [s["road"] for s in r["properties"]["steps"] if s["road"]] == ["草图路"]
    conn.rollback()
    g = graph.current(conn, REGION, graph.version_of(conn, REGION))
    assert "草图路" not in g.names
    conn.close()


def test_the_app_role_reads_versions_and_cannot_write_them(demo_dsn):
    import psycopg2

    from db.core import app_dsn
    conn = connect(app_dsn(demo_dsn))
    try:
        assert graph.version_of(conn, "150623") is not None
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute("UPDATE road_network SET version = version + 1")
    finally:
        conn.rollback()
        conn.close()
