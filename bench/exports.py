"""Exports and the OGC API against named peers, in the same run: each line prints ours, the peer
and the ratio ours/peer (below 1 is faster); asserts nothing.

    .venv/bin/python -m bench.exports --incidents 1000000       # --keep, or --dsn to reuse a database

1. incidents → GeoPackage (EPSG:4490): ``exports.service.run`` vs ``ogr2ogr`` reading the very same
   SQL from PostGIS, and vs GDAL through Python (pyogrio ``write_dataframe`` of the same rows).
2. incidents → GeoJSON: our streaming rate in features/s (and MB/s).
3. 5,000 OGC API items, page 1 and a deep page (the middle of the table): our /ogc (keyset ``after``,
   and the old ``offset``) vs tipg and pygeoapi serving the same ``incident`` table.
4. GDAL's OAPIF driver: counting a 0.3° box and copying 10,000 incidents, ours vs tipg.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.load_incidents import drop_database
from data.users import Actor
from db.cluster import resolve_dsn
from db.core import connect

NOW = datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc)


def make_database_with(server: str, incidents: int) -> tuple[str, str]:
    """A throwaway migrated database holding the demo county and ``incidents`` incidents."""
    from bench.load_incidents import make_database

    return make_database(server, incidents)


def _ogr2ogr_sql(dsn: str, actor) -> str:
    """The exact SQL our export runs for incidents, with parameters bound, geometry in 4490."""
    from layers import registry
    from layers.base import Query, params, select

    layer = registry.get("incidents")
    bind = params(layer, actor, Query(), NOW)
    bind["srid"] = 4490
    composed = select(layer, actor, Query(), bind, geom="geom", order=False)
    conn = connect(dsn)
    try:
        text = conn.cursor().mogrify(composed, bind).decode()
    finally:
        conn.close()
    return text.replace("SELECT r.fid, r.geom AS geom", "SELECT r.fid, ST_Transform(r.geom, 4490) AS geom", 1)


def _pg_conn_string(dsn: str) -> str:
    from urllib.parse import urlsplit

    u = urlsplit(dsn)
    parts = [f"host={u.hostname}", f"port={u.port or 5432}", f"dbname={u.path.lstrip('/')}"]
    if u.username:
        parts.append(f"user={u.username}")
    if u.password:
        parts.append(f"password={u.password}")
    return "PG:" + " ".join(parts)


def line(what: str, ours: float, peers: dict[str, float | None], unit: str = "s") -> None:
    """One result line: ours, each peer and the ratio ours/peer."""
    parts = [f"{what}: ours {ours:.2f} {unit}"]
    for name, value in peers.items():
        parts.append(f"{name} {value:.2f} {unit} → ours/{name} {ours / value:.2f}" if value else f"{name} —")
    print(" | ".join(parts), flush=True)


def bench_gpkg(dsn: str, actor, work: Path, gdal_python: bool) -> None:
    import resource

    from exports.service import ExportRequest, run

    t, cpu = time.perf_counter(), time.process_time()
    written = run(dsn, actor, ExportRequest(("incidents",), "gpkg", "EPSG:4490"), work / "ours.gpkg", now=NOW)
    ours, ours_cpu = time.perf_counter() - t, time.process_time() - cpu
    n = written["incidents"]
    before, t = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(work / "peer.gpkg"), _pg_conn_string(dsn), "-sql",
                    _ogr2ogr_sql(dsn, actor), "-nln", "incidents"], check=True, capture_output=True)
    peer, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    peer_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peers: dict[str, float | None] = {"ogr2ogr": peer}
    if gdal_python:
        peers["pyogrio"] = _pyogrio_gpkg(dsn, actor, work / "pyogrio.gpkg")
    line(f"GeoPackage, {n:,} incidents (EPSG:4490)", ours, peers)
    # the client's own CPU (the PostgreSQL side is the same query for both): steadier on a busy machine
    line(f"GeoPackage, {n:,} incidents, client CPU", ours_cpu, {"ogr2ogr": peer_cpu})


def _pyogrio_gpkg(dsn: str, actor, out: Path) -> float:
    """GDAL writing the same rows (our cursor, times as text) through pyogrio in one call."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely

    from layers import registry
    from layers.base import Query

    layer = registry.get("incidents")
    t = time.perf_counter()
    conn = connect(dsn)
    try:
        chunks = list(registry.stream(conn, layer, actor, Query(), 4490, 20_000, NOW, times="text"))
    finally:
        conn.rollback()
        conn.close()
    rows = [r for c in chunks for r in c]
    frame = pd.DataFrame([r[2:] for r in rows], columns=[f.zh for f in layer.export_fields])
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    pyogrio.write_dataframe(gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4490"), out, layer="incidents",
                            driver="GPKG")
    return time.perf_counter() - t


def bench_geojson(dsn: str, actor, work: Path) -> None:
    from exports.service import ExportRequest, run

    t = time.perf_counter()
    written = run(dsn, actor, ExportRequest(("incidents",), "geojson", "EPSG:4326"), work / "ours.geojson", now=NOW)
    dt = time.perf_counter() - t
    size = (work / "ours.geojson").stat().st_size / 1e6
    print(f"GeoJSON streaming: {written['incidents'] / dt:,.0f} features/s, {size / dt:.1f} MB/s ({size:.0f} MB)")


BOX = (107.0, 38.0, 107.3, 38.3)  # a 0.3° box, as in issue 12


def _timed_get(url: str, headers: dict | None = None, params: dict | None = None, rounds: int = 3) -> float | None:
    """Median seconds of ``rounds`` GETs (after one warm-up), None when the server refuses."""
    import requests

    r = requests.get(url, headers=headers, params=params, timeout=600)
    if r.status_code != 200:
        print(f"  {url} answered {r.status_code}: {r.text[:200]}")
        return None
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        r = requests.get(url, headers=headers, params=params, timeout=600)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _gdal(args: list[str], env: dict) -> float | None:
    t = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "GDAL_HTTP_TIMEOUT": "600", **env})
    if done.returncode != 0:
        print(f"  {' '.join(args[:3])} failed: {done.stderr[-300:]}")
        return None
    return time.perf_counter() - t


def bench_ogc(dsn: str, work: Path) -> None:
    from waitress.server import create_server

    from app import Settings, create_app
    from bench import ogc_peers
    from data.users import issue_token

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=dsn, escalate_every_s=0)), host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        token = issue_token(conn, "demo-analyst", "bench")
        cur.execute("SELECT count(*) FROM incident")
        total = cur.fetchone()[0]
        cur.execute("SELECT id::text FROM incident ORDER BY id OFFSET %s LIMIT 1", (total // 2,))
        middle = cur.fetchone()[0]
    conn.close()
    ours_api = f"http://127.0.0.1:{port}/ogc"
    ours_items = ours_api + "/collections/incidents/items"
    auth = {"Authorization": f"Bearer {token}"}
    ours = {"page 1": _timed_get(ours_items, auth, {"limit": 5000}),
            "deep": _timed_get(ours_items, auth, {"limit": 5000, "after": middle}),
            "deep offset": _timed_get(ours_items, auth, {"limit": 5000, "offset": total // 2})}
    box = ",".join(map(str, BOX))
    gdal_env = {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    gdal_count = ["ogrinfo", "-ro", "-so", "-spat", *map(str, BOX), "-oo", "PAGE_SIZE=1000"]
    gdal_copy = ["ogr2ogr", "-f", "GPKG", "-limit", "10000", "-oo", "PAGE_SIZE=1000"]
    ours_gdal = {"count": _gdal([*gdal_count, f"OAPIF:{ours_api}", "incidents"], gdal_env),
                 "copy": _gdal([*gdal_copy, str(work / "oapif-ours.gpkg"), f"OAPIF:{ours_api}", "incidents"],
                               gdal_env)}
    srv.close()
    peers: dict[str, dict] = {}
    for name, serve in (("tipg", ogc_peers.tipg), ("pygeoapi", ogc_peers.pygeoapi)):
        try:
            with serve(dsn) as (api, items):
                extra = {"f": "json"} if name == "pygeoapi" else {}
                peers[name] = {"page 1": _timed_get(items, None, {"limit": 5000, **extra}),
                               "deep": _timed_get(items, None, {"limit": 5000, "offset": total // 2, **extra})}
                if name == "tipg":
                    layer = "public.incident"
                    peers[name]["count"] = _gdal([*gdal_count, f"OAPIF:{api}", layer], {})
                    peers[name]["copy"] = _gdal([*gdal_copy, str(work / "oapif-tipg.gpkg"), f"OAPIF:{api}", layer], {})
        except Exception as exc:  # noqa: BLE001 - a peer that does not run is reported, not faked
            print(f"OGC peer {name} skipped: {exc}")
            peers[name] = {}
    for key, what in (("page 1", "OGC API 5,000 items, page 1"),
                      ("deep", f"OGC API 5,000 items, deep page (feature {total // 2:,}; ours: keyset after)")):
        if ours[key] is not None:
            line(what, ours[key], {n: p.get(key) for n, p in peers.items()})
    if ours["deep offset"] is not None:
        line("OGC API 5,000 items, deep page by offset (ours: the key at the offset, then keyset)", ours["deep offset"],
             {n: p.get("deep") for n, p in peers.items()})
    for key, what in (("count", f"GDAL OAPIF: count a 0.3° box {box}"), ("copy", "GDAL OAPIF: copy 10,000 incidents")):
        if ours_gdal[key] is not None:
            line(what + " (PAGE_SIZE=1000)", ours_gdal[key], {"tipg": peers.get("tipg", {}).get(key)})


def _incidents(dsn: str) -> int:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM incident")
            return cur.fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    """Run the measurements on a throwaway database (or on ``--dsn``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the throwaway database")
    ap.add_argument("--dsn", help="measure this database (already loaded) instead of a new one")
    ap.add_argument("--only", choices=("gpkg", "geojson", "ogc"), nargs="+", help="these parts only")
    args = ap.parse_args()
    server = resolve_dsn()
    if args.dsn:
        name, dsn = None, args.dsn
    else:
        print(f"loading the demo county with {args.incidents:,} incidents …", flush=True)
        name, dsn = make_database_with(server, args.incidents)
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{subprocess.run(['gdalinfo', '--version'], capture_output=True, text=True).stdout.strip()}", flush=True)
    try:
        actor = Actor(user_id=None, username="bench", role="admin", unit_code="150623", region_code="150623")
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
            work = Path(tmp)
            parts = args.only or ("gpkg", "geojson", "ogc")
            if "gpkg" in parts:
                bench_gpkg(dsn, actor, work, gdal_python=_incidents(dsn) <= 300_000)  # it holds all rows in memory
            if "geojson" in parts:
                bench_geojson(dsn, actor, work)
            if "ogc" in parts:
                bench_ogc(dsn, work)
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    finally:
        if name and not args.keep:
            drop_database(server, name)


if __name__ == "__main__":
    main()
