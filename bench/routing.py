"""Benchmark: route latency in pgRouting against in-memory peers on the same graph, isochrone build
and whole-county coverage time.

    python -m bench.routing [--routes 200] [--grid 224] [--keep]

Makes a throwaway database holding the demo county (no incidents) plus a generated square grid
network of ~100k edges (region 150698, 60 km/h, 500 m blocks), then, in one run:

1. ``data.routing.route.route`` (snap both ends mid-edge, search, path geometry and turn list)
   between seeded random points, p50/p95, on both networks: ours on the warm in-memory graph
   (``data.routing.graph``), and a quarter of the pairs on pgRouting (the reference engine);
2. the same origin/destination *vertices* in networkx (``single_source_dijkstra`` to the target)
   and igraph (``get_shortest_paths``) on a graph built once in memory from the same edges —
   what ours is measured against. Peers that are not installed are skipped with a message.
   Ratios are printed as peer / ours (> 1: ours is faster);
3. building the 10- and 30-minute police-station isochrones, and the whole-county coverage.

Not a test: timings vary with the machine; compare the ratios within one run.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import psycopg2
from psycopg2.extras import execute_values

from bench.load_incidents import _with_db, make_database
from data.routing import graph, reach
from data.routing import route as R
from db.cluster import resolve_dsn
from db.core import connect

GRID_REGION = "150698"
GRID_ORIGIN = (110.0, 40.0)
BLOCK_DEG = 0.005  # ~430 m east-west, ~555 m north-south at 40 N


def make_grid(conn, n: int) -> int:
    """An n × n grid network in its own region; returns the number of edges."""
    lon0, lat0 = GRID_ORIGIN
    with conn.cursor() as cur:
        cur.execute("INSERT INTO region (region_code, name) VALUES (%s, 'bench grid')", (GRID_REGION,))
        vid = lambda i, j: int(GRID_REGION) * 10 ** 7 + i * n + j + 1  # noqa: E731
        verts = [(vid(i, j), GRID_REGION, lon0 + j * BLOCK_DEG, lat0 + i * BLOCK_DEG)
                 for i in range(n) for j in range(n)]
        execute_values(cur, "INSERT INTO road_vertex (id, region_code, geom) VALUES %s", verts,
                       template="(%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", page_size=10000)
        m_x = float(BLOCK_DEG * 111_320 * np.cos(np.radians(lat0)))
        m_y = BLOCK_DEG * 110_574
        rows = []
        for i in range(n):
            for j in range(n):
                x, y = lon0 + j * BLOCK_DEG, lat0 + i * BLOCK_DEG
                if j + 1 < n:
                    rows.append((vid(i, j), vid(i, j + 1), m_x, x, y, x + BLOCK_DEG, y))
                if i + 1 < n:
                    rows.append((vid(i, j), vid(i + 1, j), m_y, x, y, x, y + BLOCK_DEG))
        execute_values(
            cur, "INSERT INTO road_edge (region_code, source, target, cost, reverse_cost, length_m, road_class,"
                 " name, speed_kmh, geom) VALUES %s",
            [(GRID_REGION, s, t, m / (60 / 3.6), m / (60 / 3.6), m, x0, y0, x1, y1)
             for s, t, m, x0, y0, x1, y1 in rows],
            template="(%s, %s, %s, %s, %s, %s, 'county', '网格路', 60, "
                     "ST_MakeLine(ST_SetSRID(ST_MakePoint(%s, %s), 4326), ST_SetSRID(ST_MakePoint(%s, %s), 4326)))",
            page_size=10000)
        cur.execute("ANALYZE road_edge; ANALYZE road_vertex")
    conn.commit()
    return len(rows)


def load_edges(conn, region: str):
    """(source, target, cost, reverse_cost) and vertex coordinates of a region, for the peers."""
    with conn.cursor() as cur:
        cur.execute("SELECT source, target, cost, reverse_cost FROM road_edge WHERE region_code = %s", (region,))
        edges = cur.fetchall()
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM road_vertex WHERE region_code = %s", (region,))
        verts = cur.fetchall()
    return edges, verts


def pct(xs, q):
    return float(np.percentile(np.array(xs) * 1000, q))


def _ours(conn, region: str, verts, pairs, engine: str) -> list[float]:
    """Seconds of each ``route`` call (snap, search, pieces, turn list) with the given engine."""
    times = []
    for a, b in pairs:
        t = time.perf_counter()
        try:
            R.route(conn, region, R.End(verts[a][1], verts[a][2], "A"), R.End(verts[b][1], verts[b][2], "B"),
                    engine=engine)
        except R.Unreachable:
            pass
        times.append(time.perf_counter() - t)
    return times


def bench_network(conn, region: str, label: str, routes: int, rng) -> None:
    """Route latency on one network: ours (in-memory graph), pgRouting and the installed peers, same pairs."""
    edges, verts = load_edges(conn, region)
    ids = [v[0] for v in verts]
    pairs = [tuple(rng.choice(len(verts), 2, replace=False)) for _ in range(routes)]
    t = time.perf_counter()
    g = R.region_graph(conn, region)
    load_s = time.perf_counter() - t
    ours = _ours(conn, region, verts, pairs, "memory")
    pgr = _ours(conn, region, verts, pairs[: max(10, routes // 4)], "pgrouting")
    p50, p95 = pct(ours, 50), pct(ours, 95)
    print(f"\n{label}: {len(edges)} edges, {len(verts)} vertices, {routes} routes")
    print(f"  ours (in-memory graph, loaded in {load_s:.2f} s, {g.nbytes() / 1e6:.1f} MB of arrays): "
          f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    print(f"  pgRouting (the reference, bounded edge query, {len(pgr)} routes): p50 {pct(pgr, 50):7.1f} ms   "
          f"p95 {pct(pgr, 95):7.1f} ms   pgRouting/ours p50 {pct(pgr, 50) / p50:.1f}×")
    search = _search_only(g, ids, pairs)
    s50, s95 = pct(search, 50), pct(search, 95)
    print(f"  ours, the search alone (vertex to vertex, path of edges, like the peers): p50 {s50:7.3f} ms   "
          f"p95 {s95:7.3f} ms ({'all-pairs table' if g.apsp is not None else 'one Dijkstra per route'})")
    _networkx(edges, ids, pairs, s50, s95)
    _igraph(edges, ids, pairs, s50, s95)


def _search_only(g, ids, pairs) -> list[float]:
    """Seconds of ``graph.shortest`` between the vertices of each pair (an end at an edge's end)."""
    at: dict[int, object] = {}
    for k in range(len(g.ids)):
        at.setdefault(int(g.junctions[g.src[k]]), graph.End(k, 0.0))
        at.setdefault(int(g.junctions[g.tgt[k]]), graph.End(k, 1.0))
    times = []
    for a, b in pairs:
        if ids[a] not in at or ids[b] not in at:
            continue
        t = time.perf_counter()
        graph.shortest(g, at[ids[a]], at[ids[b]])
        times.append(time.perf_counter() - t)
    return times


def _networkx(edges, ids, pairs, p50: float, p95: float) -> None:
    """The same routes with networkx (a warm in-memory graph), when installed."""
    try:
        import networkx as nx
    except ImportError:
        print("  networkx: not installed — skipped (pip install networkx to compare)")
    else:
        t = time.perf_counter()
        g = nx.DiGraph()
        for s, tt, c, rc in edges:
            g.add_edge(s, tt, weight=c)
            if rc >= 0:
                g.add_edge(tt, s, weight=rc)
        build = time.perf_counter() - t
        times = []
        for a, b in pairs:
            t = time.perf_counter()
            try:
                nx.single_source_dijkstra(g, ids[a], ids[b], weight="weight")
            except nx.NetworkXNoPath:
                pass
            times.append(time.perf_counter() - t)
        print(f"  networkx (warm in-memory graph, built in {build:.1f} s): p50 {pct(times, 50):7.1f} ms   "
              f"p95 {pct(times, 95):7.1f} ms   networkx/ours p50 {pct(times, 50) / p50:.1f}×  "
              f"p95 {pct(times, 95) / p95:.1f}× (goal ≥ 10×)")


def _igraph(edges, ids, pairs, p50: float, p95: float) -> None:
    """The same routes with igraph (a warm in-memory graph), when installed."""
    try:
        import igraph as ig
    except ImportError:
        print("  igraph: not installed — skipped (pip install igraph to compare)")
    else:
        index = {v: i for i, v in enumerate(ids)}
        pairs_e, weights = [], []
        for s, tt, c, rc in edges:
            pairs_e.append((index[s], index[tt]))
            weights.append(c)
            if rc >= 0:
                pairs_e.append((index[tt], index[s]))
                weights.append(rc)
        g = ig.Graph(n=len(ids), edges=pairs_e, directed=True)
        g.es["weight"] = weights
        times = []
        for a, b in pairs:
            t = time.perf_counter()
            g.get_shortest_paths(a, to=b, weights="weight", output="epath")
            times.append(time.perf_counter() - t)
        print(f"  igraph (warm in-memory graph): p50 {pct(times, 50):7.1f} ms   p95 {pct(times, 95):7.1f} ms   "
              f"igraph/ours p50 {pct(times, 50) / p50:.2f}×  p95 {pct(times, 95) / p95:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=200)
    parser.add_argument("--grid", type=int, default=224, help="grid side: n × n vertices, ~2n² edges")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    args = parser.parse_args()
    server = resolve_dsn()
    name, dsn = make_database(server)
    rng = np.random.default_rng(1)
    try:
        conn = connect(dsn)
        conn.autocommit = True  # like the API's pooled connections: each query its own transaction
        bench_network(conn, "150623", "demo network (Otog Front Banner)", args.routes, rng)
        conn.autocommit = False
        t = time.perf_counter()
        make_grid(conn, args.grid)
        print(f"\n(generated the {args.grid}×{args.grid} grid in {time.perf_counter() - t:.1f} s)")
        conn.autocommit = True
        bench_network(conn, GRID_REGION, "generated grid network", args.routes, rng)
        conn.autocommit = False
        print("\nservice reach on the demo county")
        for kind in ("police_station", "governance_centre"):
            for minutes in (10, 30):
                t = time.perf_counter()
                reach.ensure(conn, "150623", kind, minutes, refresh=True)
                print(f"  isochrone {kind:<18} {minutes:>2} min: {time.perf_counter() - t:6.2f} s")
        admin = type("Whole", (), {"region_code": "150623", "unit_code": "150623"})()
        t = time.perf_counter()
        kpi = reach.coverage(conn, admin, "governance_centre")["kpi"]
        print(f"  whole-county coverage (401 cells, cached isochrones): {time.perf_counter() - t:6.2f} s "
              f"→ {kpi['share']:.1%} of residents covered")
        t = time.perf_counter()
        s = reach.suggest(conn, admin, "governance_centre")
        print(f"  one-more-station suggestion ({s.get('demand_points', 0)} demand points): "
              f"{time.perf_counter() - t:6.2f} s")
        conn.close()
    finally:
        if not args.keep:
            admin_conn = psycopg2.connect(_with_db(server, "postgres"))
            admin_conn.autocommit = True
            with admin_conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin_conn.close()


if __name__ == "__main__":
    main()
