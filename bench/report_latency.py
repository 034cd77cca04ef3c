"""Field-app report latency and throughput under 50 concurrent clients, against plain INSERT.

    python -m bench.report_latency --dsn postgresql://…/db [--clients 50] [--seconds 20]

The app is served by waitress in this process on a free local port; each client posts reports
(new UUIDs, points inside the county) over HTTP with a bearer token for ``--seconds``. The floor,
measured in the same run: the same number of clients INSERTing the same kind of row straight into
an unindexed, trigger-free copy of ``incident`` (one statement and commit per row). Prints p50/p95
and rows/s of both and their ratio; asserts nothing. Run it on databases holding 1M and 10M
incidents to see how size matters (the report path reads by key and by GiST, so it should not).
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.request import Request, urlopen

import numpy as np

from db.core import connect
from data.users import issue_token

SEAT = (107.4751, 38.1798)


def _points(dsn: str, n: int) -> list[tuple[float, float]]:
    """``n`` points inside level-4 cells near the seat (so every report is accepted)."""
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 20))).geom AS p
                       FROM grid_unit WHERE level = 4 AND code LIKE '150623001%%') s LIMIT %s""", (n,))
        pts = cur.fetchall()
    conn.close()
    return pts


def _run(clients: int, seconds: float, work) -> tuple[list[float], int]:
    """Latencies (s) of every call ``work(i)`` made by ``clients`` threads for ``seconds``."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(k: int):
        i, mine = 0, []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            work(k * 1_000_000 + i)
            mine.append(time.perf_counter() - t0)
            i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return latencies, len(latencies)


def _summary(name: str, lat: list[float], seconds: float) -> float:
    p50, p95 = np.percentile(lat, 50) * 1000, np.percentile(lat, 95) * 1000
    rate = len(lat) / seconds
    print(f"{name:34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {rate:8.1f} rows/s   ({len(lat):,} rows)")
    return rate


def main() -> None:
    """Serve, load, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()

    import os

    from waitress.server import create_server

    os.environ.setdefault("ONEMAP_API_RATE", "10000000")  # one bench token stands for 50 phones
    os.environ.setdefault("ONEMAP_DB_POOL", str(args.clients + 5))

    from app import Settings, create_app

    conn = connect(args.dsn)
    token = issue_token(conn, "demo-dispatcher", f"bench-{uuid.uuid4().hex[:6]}")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident")
        print(f"incidents before: {cur.fetchone()[0]:,}; {args.clients} clients for {args.seconds:g} s each run")
        cur.execute("DROP TABLE IF EXISTS bench_incident_floor")
        cur.execute("CREATE TABLE bench_incident_floor (LIKE incident INCLUDING DEFAULTS)")
    conn.commit()
    conn.close()
    pts = _points(args.dsn, 2000)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=args.dsn, escalate_every_s=0)), host="127.0.0.1", port=port,
                        threads=args.clients + 8, connection_limit=args.clients + 50)
    threading.Thread(target=srv.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}/api/v1/incidents"

    def post(i: int) -> None:
        lon, lat = pts[i % len(pts)]
        body = json.dumps({"id": str(uuid.uuid4()), "category": "public_order", "description": "bench",
                           "lon": lon, "lat": lat, "observed_at": datetime.now(timezone.utc).isoformat()}).encode()
        req = Request(url, data=body, method="POST",
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urlopen(req) as r:
            r.read()

    lat_ours, _ = _run(args.clients, args.seconds, post)
    srv.close()

    local = threading.local()

    def insert(i: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = connect(args.dsn)
        lon, lat = pts[i % len(pts)]
        with local.conn.cursor() as cur:
            cur.execute("""INSERT INTO bench_incident_floor (id, region_code, category_code, description, geom,
                               cell_code, observed_at, received_at, state, handling_level, due_at)
                           VALUES (%s, '150623', 'public_order', 'bench', ST_SetSRID(ST_MakePoint(%s, %s), 4326),
                                   '', now(), now(), 'new', 4, now())""", (str(uuid.uuid4()), lon, lat))
        local.conn.commit()

    lat_floor, _ = _run(args.clients, args.seconds, insert)
    ours = _summary("ours: POST /api/v1/incidents", lat_ours, args.seconds)
    floor = _summary("floor: plain INSERT, bare table", lat_floor, args.seconds)
    print(f"ratio ours / floor (rows/s): {ours / floor:.2f}   median latency ×{statistics.median(lat_ours) / statistics.median(lat_floor):.1f}")
    conn = connect(args.dsn)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE bench_incident_floor")
        cur.execute("DELETE FROM incident WHERE description = 'bench' AND source = 'grid_worker'")
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main()
