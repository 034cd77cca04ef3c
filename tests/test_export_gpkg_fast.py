"""The GeoPackage fast path for point layers (blobs and R-tree rows built in numpy, datetimes
formatted by PostGIS) writes exactly what the row-by-row path writes, in every CRS and for every
role's masks; the file still opens in GDAL with the same features."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pyogrio
import pytest

from data.users import Actor
from exports import gpkg
from exports.service import ExportRequest, run
from exports.writers import iso
from geo.crs import CRSES

ADMIN = Actor(user_id=None, username="test-admin", role="admin", unit_code="150623", region_code="150623")
LEADER = Actor(user_id=None, username="test-town-leader", role="leader", unit_code="150623002", region_code="150623")


def _dump(path) -> dict:
    db = sqlite3.connect(path)
    try:
        return {
            "rows": db.execute("SELECT * FROM incidents ORDER BY fid").fetchall(),
            "rtree": db.execute("SELECT * FROM rtree_incidents_geom ORDER BY id").fetchall(),
            "contents": db.execute("SELECT min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents").fetchall(),
        }
    finally:
        db.close()


@pytest.mark.parametrize("crs", list(CRSES))
def test_fast_points_equal_the_row_by_row_path(demo_dsn, tmp_path, monkeypatch, crs):
    for who in (ADMIN, LEADER):
        fast, slow = tmp_path / f"fast-{who.role}.gpkg", tmp_path / f"slow-{who.role}.gpkg"
        req = ExportRequest(("incidents",), "gpkg", crs)
        n = run(demo_dsn, who, req, fast)["incidents"]
        with monkeypatch.context() as m:
            m.setattr(gpkg.GpkgWriter, "raw_points", False)  # the old path: shapely and iso() per value
            assert run(demo_dsn, who, req, slow)["incidents"] == n > 0
        a, b = _dump(fast), _dump(slow)
        assert len(a["rows"]) == n
        assert a == b, crs  # byte for byte: blobs, text times, masks, R-tree boxes, extent
    frame = pyogrio.read_dataframe(fast)
    assert len(frame) == n and frame.geometry.notna().all()


def test_times_from_postgis_are_the_writers_iso_text(demo_dsn):
    from psycopg2 import sql as psql

    from db.core import connect
    from layers.base import UTC_TEXT

    stamps = [datetime.fromisoformat(t) for t in ("2026-06-15T10:30:05.123999+08:00", "2026-01-01T00:00:00+00:00",
                                                  "2025-12-31T23:59:59.999999-05:00", "2026-03-01T07:08:09.5+08:00")]
    conn = connect(demo_dsn)
    try:
        with conn.cursor() as cur:
            for stamp in stamps:
                cur.execute(psql.SQL("SELECT {}").format(UTC_TEXT.format(psql.SQL("%(t)s"), psql.Identifier("t"))),
                            {"t": stamp})
                assert cur.fetchone()[0] == iso(stamp)  # milliseconds cut, not rounded, on both sides
    finally:
        conn.close()


def test_point_blobs_refuse_what_is_not_a_plain_point():
    import shapely

    pts = shapely.to_wkb(shapely.points([[1.0, 2.0], [3.0, 4.0]]), byte_order=1)
    made = gpkg.point_blobs(b"".join(pts), 2, 4490)
    assert made is not None and made[0][1] == gpkg.blob(4490, pts[1], None)
    line = shapely.to_wkb(shapely.linestrings([[0, 0], [1, 1]]), byte_order=1)
    assert gpkg.point_blobs(line, 1, 4490) is None
    empty = shapely.to_wkb(shapely.from_wkt("POINT EMPTY"), byte_order=1)
    assert gpkg.point_blobs(empty, 1, 4490) is None


@pytest.mark.parametrize("n", [1, 50, 51, 52, 51 * 51 + 1, 20_000])
def test_the_packed_rtree_is_sqlites_own(n):
    import numpy as np

    from exports import rtree

    rng = np.random.default_rng(n)
    x, y = rng.uniform(-180, 180, n), rng.uniform(-90, 90, n)
    packed, inserted = (sqlite3.connect(":memory:", isolation_level=None) for _ in range(2))
    for db in (packed, inserted):
        db.execute("CREATE VIRTUAL TABLE r USING rtree(id, minx, maxx, miny, maxy)")
        db.execute("BEGIN")
    rtree.pack(packed, "r", np.arange(1, n + 1), x, x, y, y)
    inserted.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)",
                         zip(range(1, n + 1), x.tolist(), x.tolist(), y.tolist(), y.tolist(), strict=True))
    for db in (packed, inserted):
        db.execute("COMMIT")
    assert packed.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"
    assert packed.execute("SELECT * FROM r ORDER BY id").fetchall() == \
        inserted.execute("SELECT * FROM r ORDER BY id").fetchall()  # SQLite's own float32 rounding
    box = "SELECT id FROM r WHERE maxx >= -10 AND minx <= 30 AND maxy >= 0 AND miny <= 40 ORDER BY id"
    assert packed.execute(box).fetchall() == inserted.execute(box).fetchall()
    packed.execute("INSERT INTO r VALUES (?, 1, 2, 3, 4)", (n + 1,))  # still a working R-tree afterwards
    packed.execute("DELETE FROM r WHERE id = 1")
    assert packed.execute("SELECT rtreecheck('r')").fetchone()[0] == "ok"


def test_exported_rtree_is_consistent_and_finds_the_points(demo_dsn, tmp_path):
    out = tmp_path / "i.gpkg"
    run(demo_dsn, ADMIN, ExportRequest(("incidents",), "gpkg", "EPSG:4326"), out)
    db = sqlite3.connect(out)
    try:
        assert db.execute("SELECT rtreecheck('rtree_incidents_geom')").fetchone()[0] == "ok"
        n = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
        assert db.execute("SELECT count(*) FROM rtree_incidents_geom").fetchone()[0] == n
    finally:
        db.close()
    inside = pyogrio.read_dataframe(out, bbox=(107.0, 38.0, 107.6, 38.5))  # GDAL reads through the R-tree
    every = pyogrio.read_dataframe(out)
    pts = every.geometry
    want = every[(pts.x >= 107.0) & (pts.x <= 107.6) & (pts.y >= 38.0) & (pts.y <= 38.5)]
    assert len(inside) == len(want) > 0


def test_prefetch_keeps_order_passes_errors_and_stops_early():
    from exports.prefetch import prefetched

    assert list(prefetched(iter(range(100)))) == list(range(100))

    def failing():
        yield 1
        raise ValueError("disk gone")

    got = []
    with pytest.raises(ValueError, match="disk gone"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1]
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in prefetched(endless(), depth=2):
        if item == 5:
            break
    seen = len(produced)
    assert seen <= 5 + 4  # the reader stopped with the consumer, a few items ahead at most
    assert len(produced) == seen  # and stays stopped


def test_cycle_collection_is_back_after_an_export_even_a_failed_one():
    import gc

    from exports.service import no_cycle_collection

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with no_cycle_collection():
            assert not gc.isenabled()
            raise RuntimeError("disk full")
    assert gc.isenabled()
    gc.disable()
    try:
        with no_cycle_collection():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
