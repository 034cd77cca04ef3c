"""Anonymous basic-auth flooders against API latency: `onemap serve` flooded vs idle.

    python -m bench.auth_flood [--flooders 16] [--probes 300] [--seconds 20] [--workers 0]

The issue's finding: 16 anonymous callers sending wrong basic-auth passwords to /ogc raised the
API's median latency 15x (every attempt cost a scrypt hash) and locked the account. Creates a
throwaway demo database, serves it with ``onemap serve`` in a subprocess and measures, from this
process, sequential ``/api/v1/me`` probes with a bearer token: idle, then while a *separate
process* runs ``--flooders`` threads, each from its own loopback address (127.0.3.x), sending
wrong passwords for a real account to /ogc as fast as answers come. Prints p50/p95 of both,
the ratio flooded/idle, what the flooders were answered (401 until their address is throttled,
then 429 without a hash), and whether the account's owner, from their own address, still signs
in during the flood. Asserts nothing; the database is dropped afterwards (``--keep`` keeps it).
"""
from __future__ import annotations

import argparse
import base64
import collections
import http.client
import multiprocessing as mp
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the served-app helpers the tests use

from bench.live_pages import demo_database  # noqa: E402

from served import get, onemap_serve  # noqa: E402

VICTIM, VICTIM_PASSWORD = "demo-analyst", "onemap-analyst"


def _basic(password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{VICTIM}:{password}".encode()).decode()}


def _status(base: str, path: str, headers: dict, source: str) -> int:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _flood(base: str, flooders: int, seconds: float, counts) -> None:
    """``flooders`` threads, one loopback address each, wrong passwords until time is up."""
    tally: collections.Counter = collections.Counter()
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def one(i: int) -> None:
        source = f"127.0.3.{i + 1}"
        while time.monotonic() < end:
            try:
                status = _status(base, "/ogc", _basic(f"guess-{uuid.uuid4().hex[:6]}"), source)
            except OSError:
                status = -1
            with lock:
                tally[status] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(flooders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts.update({str(k): v for k, v in tally.items()})


def _probe(base: str, token: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _, _ = get(base + "/api/v1/me", token)
        times.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"probe answered {status}")
    return times


def _pctl(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flooders", type=int, default=16)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=0, help="server processes (0: one per CPU)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    dsn, done = demo_database(0, keep=args.keep)
    try:
        from data.users import issue_token
        from db.core import connect

        conn = connect(dsn)
        token = issue_token(conn, "demo-leader", "bench-probe", read_only=True)
        conn.commit()
        conn.close()
        log = Path(f"/tmp/onemap-bench-flood-{uuid.uuid4().hex[:6]}.log")
        with onemap_serve(dsn, log, workers=args.workers or 0) as base:
            _probe(base, token, 20)  # warm-up
            idle = _probe(base, token, args.probes)
            _status(base, "/ogc", _basic(VICTIM_PASSWORD), "127.0.4.1")  # the owner's usual machine
            ctx = mp.get_context("spawn")
            counts = ctx.Manager().dict()
            flood = ctx.Process(target=_flood, args=(base, args.flooders, args.seconds, counts))
            flood.start()
            time.sleep(1.0)
            flooded = []
            owner = []
            while flood.is_alive() and len(flooded) < args.probes * 10:
                flooded += _probe(base, token, 10)
                owner.append(_status(base, "/ogc", _basic(VICTIM_PASSWORD), "127.0.4.1"))
            flood.join()
            answered = dict(counts)
    finally:
        done()

    print(f"anonymous basic-auth flood vs API latency — onemap serve, {args.workers or 'one per CPU'} worker "
          f"process(es), {args.flooders} flooders from {args.flooders} addresses for {args.seconds:g} s")
    print(f"{'':<24}{'p50 ms':>10}{'p95 ms':>10}{'probes':>8}")
    print(f"{'API idle':<24}{_pctl(idle, 50) * 1000:>10.1f}{_pctl(idle, 95) * 1000:>10.1f}{len(idle):>8}")
    print(f"{'API during the flood':<24}{_pctl(flooded, 50) * 1000:>10.1f}{_pctl(flooded, 95) * 1000:>10.1f}"
          f"{len(flooded):>8}")
    print(f"ratio p50 flooded / idle: {_pctl(flooded, 50) / _pctl(idle, 50):.2f}  "
          f"(the issue measured 15x before throttling)")
    print(f"flooders were answered: {answered}")
    print(f"the owner's own sign-ins during the flood: {collections.Counter(owner)}")


if __name__ == "__main__":
    main()
