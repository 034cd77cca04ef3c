"""Open live pages against API latency: `onemap serve` with N pages' streams open vs idle.

    python -m bench.live_pages [--pages 1000] [--probes 300] [--workers 0]

Creates a throwaway database on the configured server (``DATABASE_URL``, else the local cluster),
loads the demo county (3,000 incidents), serves it with ``onemap serve`` (gunicorn, gevent
workers) in a subprocess and measures, from this process, sequential API probes
(``/api/v1/me`` and ``/api/v1/incidents?limit=20`` alternately, bearer token): first idle, then
while a *separate process* holds ``--pages`` live streams open (one read-only kiosk session per 10
pages, as browsers with a few tabs each) and drains their heartbeats. Prints p50/p95 of both and
the ratio loaded/idle (the issue's bar: within 2x), and how long one report takes to reach every
open page. Asserts nothing; the database is dropped afterwards (``--keep`` keeps it).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import selectors
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the served-app helpers the tests use

from served import Stream, get, onemap_serve, post_json  # noqa: E402

PAGES_PER_SESSION = 10


def demo_database(incidents: int, keep: bool = False):
    """A throwaway migrated database with the demo county on the configured server; (dsn, drop)."""
    from bench.load_incidents import drop_database, make_database
    from db.cluster import resolve_dsn

    server = resolve_dsn()
    name, dsn = make_database(server, incidents)
    return dsn, (lambda: None) if keep else (lambda: drop_database(server, name))


def page_tokens(dsn: str, pages: int) -> tuple[list[str], str, str]:
    """Read-only leader tokens for ``pages`` pages (one per PAGES_PER_SESSION), a read-only probe
    token and a dispatcher's token to report with."""
    from data.users import issue_token
    from db.core import connect

    conn = connect(dsn)
    sessions = -(-pages // PAGES_PER_SESSION)
    tokens = [issue_token(conn, "demo-leader", f"bench-page-{i}", read_only=True) for i in range(sessions)]
    probe = issue_token(conn, "demo-leader", "bench-probe", read_only=True)
    writer = issue_token(conn, "demo-dispatcher", "bench-writer")
    conn.commit()
    conn.close()
    return tokens, probe, writer


def _pctl(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _probe(base: str, token: str, n: int) -> list[float]:
    """Latencies (s) of ``n`` sequential API calls."""
    out = []
    for i in range(n):
        path = "/api/v1/me" if i % 2 == 0 else "/api/v1/incidents?limit=20"
        t0 = time.perf_counter()
        status = get(base + path, token=token, timeout=60)[0]
        out.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    return out


def _holder(base: str, tokens: list[str], pages: int, ready, stop, marker: bytes, report_at) -> None:
    """In its own process: open ``pages`` streams, say so, drain them; time ``marker``'s arrival."""
    def open_one(i: int):
        s = Stream(base, tokens[i // PAGES_PER_SESSION], timeout=120)
        if s.status != 200:
            raise RuntimeError(f"stream {i} answered {s.status}: {s.body()[:200]!r}")
        s.wait_for(lambda e: e["data"].get("hello"), timeout=120)
        return s

    with ThreadPoolExecutor(16) as pool:
        streams = list(pool.map(open_one, range(pages)))
    ready.put(len(streams))
    sel = selectors.DefaultSelector()
    for s in streams:
        s.sock.setblocking(False)
        sel.register(s.sock, selectors.EVENT_READ, s)
    arrived: dict[int, float] = {}
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            s = key.data
            try:
                chunk = s.sock.recv(65536)
            except BlockingIOError:
                continue
            s.buf = (s.buf + chunk)[-4096:]
            if marker.value and marker.value in s.buf and id(s) not in arrived:
                arrived[id(s)] = time.time()
        if marker.value and len(arrived) == len(streams) and report_at.value:
            ready.put(sorted(t - report_at.value for t in arrived.values()))
            marker.value = b""
    for s in streams:
        s.close()


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--workers", type=int, default=0, help="server processes (0: one per CPU)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    dsn, done = demo_database(3000, keep=args.keep)
    try:
        tokens, probe_token, writer_token = page_tokens(dsn, args.pages)
        sessions = len(tokens)
        log = Path(f"/tmp/onemap-bench-live-{uuid.uuid4().hex[:6]}.log")
        with onemap_serve(dsn, log, workers=args.workers or 0, streams_per_session=PAGES_PER_SESSION,
                          streams_per_address=args.pages + 10) as base:
            _probe(base, probe_token, 20)  # warm-up: pools, caches
            idle = _probe(base, probe_token, args.probes)

            ctx = mp.get_context("spawn")
            ready, stop = ctx.Queue(), ctx.Event()
            marker, report_at = ctx.Array("c", 64), ctx.Value("d", 0.0)
            holder = ctx.Process(target=_holder, args=(base, tokens, args.pages, ready, stop, marker, report_at))
            t0 = time.monotonic()
            holder.start()
            opened = None
            while opened is None:  # the holder says how many it opened, or dies saying why
                try:
                    opened = ready.get(timeout=5)
                except Exception:
                    if not holder.is_alive():
                        raise RuntimeError("the page holder died (its error is above)") from None
            open_s = time.monotonic() - t0
            loaded = _probe(base, probe_token, args.probes)

            incident = str(uuid.uuid4())
            marker.value = incident.encode()
            report_at.value = time.time()
            status, _ = post_json(base + "/api/v1/incidents",
                                  {"id": incident, "category": "public_order", "description": "bench",
                                   "lon": 107.4751, "lat": 38.1798,
                                   "observed_at": datetime.now(timezone.utc).isoformat()}, writer_token)
            fanout = ready.get(timeout=120) if status in (200, 201) else []
            stop.set()
            holder.join(timeout=60)
        tracebacks = log.read_text().count("Traceback")
    finally:
        done()

    print(f"live pages vs API latency — onemap serve, {args.workers or 'one per CPU'} worker process(es), "
          f"{opened} pages open ({sessions} kiosk sessions), clients in a separate process")
    print(f"{'':<28}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'API idle':<28}{_pctl(idle, 50) * 1000:>10.1f}{_pctl(idle, 95) * 1000:>10.1f}")
    print(f"{f'API, {opened} pages open':<28}{_pctl(loaded, 50) * 1000:>10.1f}{_pctl(loaded, 95) * 1000:>10.1f}")
    print(f"ratio p95 loaded / idle: {_pctl(loaded, 95) / _pctl(idle, 95):.2f}  (bar: <= 2)")
    print(f"opening {opened} pages took {open_s:.1f} s (16 at a time, each logged in and replayed)")
    if fanout:
        print(f"one report reached all {len(fanout)} pages: p50 {statistics.median(fanout) * 1000:.0f} ms, "
              f"last {fanout[-1] * 1000:.0f} ms after the POST")
    print(f"tracebacks in the server log: {tracebacks}")


if __name__ == "__main__":
    main()
