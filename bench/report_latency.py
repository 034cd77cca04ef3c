"""Field-app report latency and throughput under concurrent clients, against the plain INSERT floor.

    python -m bench.report_latency --dsn postgresql://…/db [--clients 50] [--seconds 20] [--workers N]

The server is the production setup, `onemap serve` (gunicorn, gevent workers, connecting as the
app role), started in its own process on a free local port over ``--dsn``. The clients run in
another process: ``--clients`` threads, each with a keep-alive HTTP connection, POST reports (new
UUIDs, points inside the county) with a bearer token for ``--seconds``, one after another (closed
loop). The floor, measured in the same run by the same harness in a separate process: the same
number of threads INSERTing the same kind of row straight into an unindexed, trigger-free copy of
``incident`` (one statement and commit per row). Prints p50/p95 and rows/s of both, their ratios
and the load average; asserts nothing. Load 1M incidents first with
``DATABASE_URL=… onemap demo load --incidents 1000000``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from data.users import issue_token
from db.core import connect

ROOT = Path(__file__).resolve().parent.parent


def _points(dsn: str, n: int) -> list[tuple[float, float]]:
    """``n`` points inside level-4 cells of the seat's town (so every report is accepted)."""
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 20, 1))).geom AS p
                       FROM grid_unit WHERE level = 4 AND code LIKE '150623001%%') s LIMIT %s""", (n,))
        pts = cur.fetchall()
    conn.close()
    return pts


def _closed_loop(clients: int, seconds: float, make_work, rate: float = 0.0) -> tuple[list[float], int]:
    """Latencies (s) of the calls ``clients`` threads make for ``seconds``, and the number of failed
    calls. ``make_work()`` gives each thread its own callable.

    Closed loop (``rate`` 0): each thread calls again as soon as its last call returned. Open loop
    (``rate`` > 0 calls/s over all threads): calls are due at fixed times, thread k taking every
    ``clients``-th one, and each latency counts from the time the call was due, so a call that had
    to wait for its thread's previous one is charged the wait (no coordinated omission)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def loop(k: int):
        work, mine, bad = make_work(), [], 0
        start.wait()
        began = time.perf_counter()
        stop = time.monotonic() + seconds
        i = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            if rate > 0:
                t0 = began + (i * clients + k) / rate  # when this call is due
                if t0 > began + seconds:
                    break
                time.sleep(max(0.0, t0 - time.perf_counter()))
            try:
                work(k * 1_000_000 + i)
                mine.append(time.perf_counter() - t0)
            except Exception:  # counted, not timed
                bad += 1
            i += 1
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return latencies, failures[0]


def _post_reports(port: int, token: str, pts, clients: int, seconds: float, rate: float, out) -> None:
    """Client process: POST reports over keep-alive connections; sends (latencies, failures)."""
    import http.client

    def make():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def post(i: int) -> None:
            lon, lat = pts[i % len(pts)]
            body = json.dumps({"id": str(uuid.uuid4()), "category": "public_order", "description": "bench",
                               "lon": lon, "lat": lat,
                               "observed_at": datetime.now(timezone.utc).isoformat()})
            conn.request("POST", "/api/v1/incidents", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 201:
                raise RuntimeError(r.status)
        return post

    out.send(_closed_loop(clients, seconds, make, rate))


def _report_calls(dsn: str, pts, clients: int, seconds: float, rate: float, out) -> None:
    """Client process without HTTP: ``data.incidents.report`` on connections as the app role, to
    tell the database's share of a report from the web stack's."""
    from types import SimpleNamespace

    from data import incidents
    from db.core import app_dsn

    actor = SimpleNamespace(username="bench", role="dispatcher", unit_code="150623", region_code="150623",
                            department_code=None, worker_id=None, user_id=None, read_only=False)

    def make():
        conn = connect(app_dsn(dsn))

        def report(i: int) -> None:
            lon, lat = pts[i % len(pts)]
            now = datetime.now(timezone.utc)
            rep = incidents.validate_report({"id": str(uuid.uuid4()), "category": "public_order",
                                             "description": "bench", "lon": lon, "lat": lat,
                                             "observed_at": now.isoformat()}, now)
            incidents.report(conn, actor, rep, now=now)
        return report

    out.send(_closed_loop(clients, seconds, make, rate))


def _insert_floor(dsn: str, pts, clients: int, seconds: float, rate: float, out) -> None:
    """Floor process: plain INSERT + commit per row into the bare copy of incident."""
    def make():
        conn = connect(dsn)

        def insert(i: int) -> None:
            lon, lat = pts[i % len(pts)]
            with conn.cursor() as cur:
                cur.execute("""INSERT INTO bench_incident_floor (id, region_code, category_code, description, geom,
                                   cell_code, observed_at, received_at, state, handling_level, due_at)
                               VALUES (%s, '150623', 'public_order', 'bench', ST_SetSRID(ST_MakePoint(%s, %s), 4326),
                                       '', now(), now(), 'new', 4, now())""", (str(uuid.uuid4()), lon, lat))
            conn.commit()
        return insert

    out.send(_closed_loop(clients, seconds, make, rate))


def _in_process(target, *args):
    """Run ``target(*args, pipe)`` in a fresh process (spawned: nothing shared) and return its result."""
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, theirs))
    proc.start()
    result = mine.recv()
    proc.join()
    return result


def _summary(name: str, lat: list[float], failures: int, seconds: float) -> tuple[float, float]:
    p50, p95 = np.percentile(lat, 50) * 1000, np.percentile(lat, 95) * 1000
    rate = len(lat) / seconds
    print(f"{name:38} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {rate:8.1f} rows/s   "
          f"({len(lat):,} ok, {failures} failed)")
    return p95, rate


def _serve(dsn: str, port: int, workers: int | None, clients: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": dsn, "ONEMAP_API_RATE": "10000000",  # one token for 50 phones
           "ONEMAP_ESCALATE_EVERY_S": "0", "ONEMAP_DB_POOL": str(clients + 5)}
    cmd = [sys.executable, "-c", "from app import cli; cli()", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        cmd += ["--workers", str(workers)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=open(ROOT / "var" / "bench_report_server.log", "w"))


def _wait_ready(port: int, token: str, server: subprocess.Popen) -> None:
    import http.client

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited ({server.returncode}); see var/bench_report_server.log")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/categories", headers={"Authorization": f"Bearer {token}"})
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not answer within 120 s; see var/bench_report_server.log")


def main() -> None:
    """Serve, measure ours and the floor from client processes, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True, help="the database (its owner's URL; the server uses the app role)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=float, default=0,
                    help="open loop: reports/s over all clients, due at fixed times (default: closed loop)")
    ap.add_argument("--workers", type=int, default=None, help="server processes (default: one per CPU)")
    args = ap.parse_args()

    conn = connect(args.dsn)
    token = issue_token(conn, "demo-dispatcher", f"bench-{uuid.uuid4().hex[:6]}")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident")
        before = cur.fetchone()[0]
        cur.execute("DROP TABLE IF EXISTS bench_incident_floor")
        cur.execute("CREATE TABLE bench_incident_floor (LIKE incident INCLUDING DEFAULTS)")
    conn.commit()
    conn.close()
    pts = _points(args.dsn, 2000)
    loop = f"open loop, {args.rate:g} reports/s due" if args.rate > 0 else "closed loop"
    print(f"incidents before: {before:,}; {args.clients} clients ({loop}) for {args.seconds:g} s each run; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _serve(args.dsn, port, args.workers, args.clients)
    try:
        _wait_ready(port, token, server)
        lat_ours, bad_ours = _in_process(_post_reports, port, token, pts, args.clients, args.seconds, args.rate)
        load_ours = os.getloadavg()[0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    lat_db, bad_db = _in_process(_report_calls, args.dsn, pts, args.clients, args.seconds, args.rate)
    load_db = os.getloadavg()[0]
    lat_floor, bad_floor = _in_process(_insert_floor, args.dsn, pts, args.clients, args.seconds, args.rate)
    load_floor = os.getloadavg()[0]

    p95_ours, rate_ours = _summary("ours: POST /api/v1/incidents", lat_ours, bad_ours, args.seconds)
    p95_db, rate_db = _summary("ours without HTTP: incidents.report", lat_db, bad_db, args.seconds)
    p95_floor, rate_floor = _summary("floor: plain INSERT, bare table", lat_floor, bad_floor, args.seconds)
    print(f"p95 ours / floor: {p95_ours / p95_floor:.2f} (target <= 3, and p95 <= 20 ms)   "
          f"rows/s ours / floor: {rate_ours / rate_floor:.2f}   without HTTP: p95 x{p95_db / p95_floor:.2f}, "
          f"rows/s x{rate_db / rate_floor:.2f}")
    print(f"load average after ours {load_ours:.1f}, after ours without HTTP {load_db:.1f}, "
          f"after floor {load_floor:.1f}")
    conn = connect(args.dsn)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE bench_incident_floor")
        cur.execute("DELETE FROM incident WHERE description = 'bench' AND source = 'grid_worker'")
        cur.execute("SELECT incident_rollup_fold()")
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main()
