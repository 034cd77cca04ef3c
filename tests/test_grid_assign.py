"""Bulk cell assignment (geo/cellindex.py) gives geopandas sjoin's answer with the database's
rule (intersects, boundary included, smallest code on a shared boundary, none outside) on the
demo county's 401 cells: random points in and around the county, every cell's own vertices (on
borders shared with neighbours), points on the label raster's pixel edges; and the database's
grid_cell_at agrees on the random points."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from db.core import connect
from geo.cellindex import EXACT, OUTSIDE, CellIndex


@pytest.fixture(scope="module")
def grid(demo_dsn):
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT code, ST_AsBinary(geom) FROM grid_unit WHERE level = 4 ORDER BY random()")
        rows = cur.fetchall()
    conn.close()
    return [r[0] for r in rows], list(shapely.from_wkb([bytes(r[1]) for r in rows]))


def _sjoin(lon, lat, codes, polys):
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    cells = gpd.GeoDataFrame({"code": codes}, geometry=polys, crs=4326)
    joined = gpd.sjoin(pts, cells, predicate="intersects", how="left")
    out = joined.groupby(level=0)["code"].min().reindex(range(len(lon))).to_numpy(dtype=object)
    return [c if isinstance(c, str) else None for c in out]


def _sample(polys, index, rng):
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    n = 20_000
    lon = list(rng.uniform(xmin - 0.05, xmax + 0.05, n))
    lat = list(rng.uniform(ymin - 0.05, ymax + 0.05, n))
    verts = shapely.get_coordinates(shapely.boundary(np.array(polys, dtype=object)))
    pick = verts[rng.choice(len(verts), min(6000, len(verts)), replace=False)]  # on cell borders, many shared
    lon += list(pick[:, 0])
    lat += list(pick[:, 1])
    ix = rng.integers(0, index.nx, 3000)  # on pixel edges and corners
    iy = rng.integers(0, index.ny, 3000)
    lon += list(index.x0 + ix * index.d)
    lat += list(index.y0 + iy * index.d + rng.uniform(0, index.d, 3000) * (rng.random(3000) < 0.5))
    return np.array(lon), np.array(lat), n


def test_bulk_assignment_equals_sjoin_with_the_smallest_code_rule(grid):
    codes, polys = grid
    index = CellIndex(codes, polys, pixels=256)
    assert (index.labels == EXACT).any() and (index.labels == OUTSIDE).any() and (index.labels >= 0).any()
    lon, lat, _ = _sample(polys, index, np.random.default_rng(2))
    got = list(index.assign(lon, lat))
    want = _sjoin(lon, lat, codes, polys)
    assert got == want
    assert sum(c is None for c in got) > 1000  # points outside the county are in the sample


def test_shared_vertices_go_to_the_smallest_code(grid):
    codes, polys = grid
    index = CellIndex(codes, polys)
    verts = shapely.get_coordinates(shapely.boundary(np.array(polys, dtype=object)))
    got = index.assign(verts[:, 0], verts[:, 1])
    tree = shapely.STRtree(polys)
    shared = 0
    for (x, y), code in zip(verts[::7], got[::7], strict=True):
        holders = sorted(codes[i] for i in tree.query(shapely.Point(x, y), predicate="intersects"))
        assert code == holders[0]
        shared += len(holders) > 1
    assert shared > 100


def test_the_database_rule_agrees(grid, demo_dsn):
    codes, polys = grid
    index = CellIndex(codes, polys)
    rng = np.random.default_rng(4)
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    lon, lat = rng.uniform(xmin, xmax, 2000), rng.uniform(ymin, ymax, 2000)
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT grid_cell_at('150623', ST_SetSRID(ST_MakePoint(x, y), 4326)) "
                    "FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(x, y, i) ORDER BY i",
                    (lon.tolist(), lat.tolist()))
        db = [r[0] for r in cur.fetchall()]
    conn.close()
    assert list(index.assign(lon, lat)) == db
