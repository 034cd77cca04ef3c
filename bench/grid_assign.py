"""Benchmark: assign many points to the county's 401 level-4 cells — ours (``geo.cellindex``:
label raster + exact test at boundaries) against geopandas ``sjoin`` and SQL joins in PostGIS.

    python -m bench.grid_assign [--points 10000000] [--sample 200000] [--dsn postgresql://…]

Points are uniform over the cells' extent grown by 0.05° (some fall outside the county). Ours
assigns all of them; each peer assigns a sample of ``--sample`` points (the same first points)
and its time is scaled linearly to all (printed as such): sjoin with the cells as the right
frame (the usual call: a tree of cells, each point tested against whole cells), sjoin the other
way round (a tree of points, each cell prepared), the naive SQL join (points COPYed into a
temporary table, the smallest-code intersecting cell from grid_unit per point; the COPY is not
timed) and the database's own rule (``grid_cell_at``: subdivided cell pieces, GiST). Every
peer's answers are checked equal to ours on the sample. Without ``--dsn`` a throwaway database
with the demo county is made and dropped.
"""
from __future__ import annotations

import argparse
import io
import time

import numpy as np
import shapely

from bench.load_incidents import drop_database, make_database
from db.cluster import resolve_dsn
from db.core import connect
from geo.cellindex import CellIndex


def cells(dsn: str):
    """Codes and polygons of the level-4 cells."""
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT code, ST_AsBinary(geom) FROM grid_unit WHERE level = 4 ORDER BY code")
        rows = cur.fetchall()
    conn.close()
    return [r[0] for r in rows], list(shapely.from_wkb([bytes(r[1]) for r in rows]))


def _sjoin(lon, lat, codes, polys, cells_right: bool):
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    grid = gpd.GeoDataFrame({"code": codes}, geometry=polys, crs=4326)
    if cells_right:
        j = gpd.sjoin(pts, grid, predicate="intersects", how="left")
        s = j.groupby(level=0)["code"].min()
    else:
        j = gpd.sjoin(grid, pts, predicate="intersects", how="inner")
        s = j.groupby("index_right")["code"].min()
    return s.reindex(range(len(lon))).to_numpy(dtype=object)


def _sql(dsn: str, lon, lat, query: str):
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE pts (i integer, geom geometry(Point, 4326))")
        pairs = enumerate(zip(lon.tolist(), lat.tolist(), strict=True))
        buf = io.StringIO("".join(f"{i}\tSRID=4326;POINT({x!r} {y!r})\n" for i, (x, y) in pairs))
        cur.copy_expert("COPY pts FROM STDIN", buf)
        cur.execute("ANALYZE pts")
        t = time.perf_counter()
        cur.execute(query)
        rows = cur.fetchall()
        took = time.perf_counter() - t
    conn.rollback()
    conn.close()
    out = np.full(len(lon), None, dtype=object)
    for i, code in rows:
        out[i] = code
    return out, took


NAIVE = """SELECT p.i, (SELECT u.code FROM grid_unit u WHERE u.level = 4 AND ST_Intersects(u.geom, p.geom)
                    ORDER BY u.code LIMIT 1) FROM pts p"""
OURS_SQL = "SELECT p.i, grid_cell_at('150623', p.geom) FROM pts p"


def _same(a, b) -> int:
    return int(sum(1 for x, y in zip(a, b, strict=True) if (x if isinstance(x, str) else None)
                   != (y if isinstance(y, str) else None)))


def run(dsn: str, points: int, sample: int) -> None:
    """Time ours on all points and each peer on the sample; print times and ratios."""
    codes, polys = cells(dsn)
    t = time.perf_counter()
    index = CellIndex(codes, polys)
    build = time.perf_counter() - t
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    rng = np.random.default_rng(1)
    lon = rng.uniform(xmin - 0.05, xmax + 0.05, points)
    lat = rng.uniform(ymin - 0.05, ymax + 0.05, points)
    t = time.perf_counter()
    ours = index.assign(lon, lat)
    took = time.perf_counter() - t
    outside = int(sum(1 for c in ours if c is None))
    print(f"{points:,} points, {len(codes)} cells ({outside:,} points in no cell); "
          f"label raster {index.nx}×{index.ny}, {float((index.labels == -2).mean()):.1%} of pixels exact")
    print(f"  ours (geo.cellindex): {took:8.2f} s  ({points / took / 1e6:.2f} M points/s; "
          f"index built in {build:.2f} s)")
    n = min(sample, points)
    s_lon, s_lat = lon[:n], lat[:n]
    peers = []
    for label, fn in (("geopandas sjoin (points ⋈ cells)", lambda: _sjoin(s_lon, s_lat, codes, polys, True)),
                      ("geopandas sjoin (cells ⋈ points)", lambda: _sjoin(s_lon, s_lat, codes, polys, False))):
        t = time.perf_counter()
        got = fn()
        peers.append((label, time.perf_counter() - t, got))
    for label, query in (("naive SQL join on grid_unit", NAIVE), ("SQL grid_cell_at (pieces + GiST)", OURS_SQL)):
        got, sec = _sql(dsn, s_lon, s_lat, query)
        peers.append((label, sec, got))
    for label, sec, got in peers:
        scaled = sec * points / n
        print(f"  {label:<34} {sec:8.2f} s for {n:,} → {scaled:8.1f} s for {points:,} (scaled)   "
              f"peer/ours {scaled / took:6.1f}× (goal ≥ 3×)   answers differing from ours: {_same(ours[:n], got)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--sample", type=int, default=200_000)
    parser.add_argument("--dsn", help="a database with the demo county (default: a throwaway one)")
    args = parser.parse_args()
    if args.dsn:
        run(args.dsn, args.points, args.sample)
        return
    server = resolve_dsn()
    name, dsn = make_database(server)
    try:
        run(dsn, args.points, args.sample)
    finally:
        drop_database(server, name)


if __name__ == "__main__":
    main()

