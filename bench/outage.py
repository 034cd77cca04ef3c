"""Recovery after a database restart: how soon the API and an open live page are back.

    python -m bench.outage [--rounds 3] [--down 10]

Builds a PostgreSQL cluster of its own (initdb on a free port, the quiet demo county), serves it
with ``onemap serve`` (gunicorn, gevent workers) in a subprocess, opens a live page (a kiosk
stream), then ``--rounds`` times: stops the cluster (``pg_ctl stop -m fast``), keeps probing the
API for ``--down`` seconds, starts it again (``pg_ctl start -w`` returns once it accepts
connections = t0), and measures from t0:

- ``api``: the first 200 from ``/api/v1/me`` (probed every 50 ms);
- ``live``: the open page receiving an event committed at t0 straight into the database, i.e.
  the listener reconnected and caught up on what it had missed (no page reload, no resync).

Also counts what the probes got while the database was down (every answer should be 503 with
Retry-After) and the server log's tracebacks and outage lines. The peer is the issue's own
measurement before this design: live pages resumed 30 s after the database was back, and a
30 s outage wrote ~107k traceback lines. Asserts nothing.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the served-app helpers the tests use

from served import Stream, get, onemap_serve, post_json, throwaway_cluster  # noqa: E402


def _commit_note(dsn: str, incident: str) -> int:
    """Append a timeline event straight into the database; its id."""
    from db.core import connect

    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO incident_event (incident_id, region_code, at, action, actor, note) "
                        "SELECT id, region_code, now(), 'note', 'bench', 'committed at restart' "
                        "FROM incident WHERE id = %s RETURNING id", (incident,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--down", type=float, default=10.0, help="seconds the database stays stopped")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from data.users import issue_token
    from db.core import connect

    rows = []
    during: collections.Counter = collections.Counter()
    with throwaway_cluster() as pg:
        conn = connect(pg.dsn)
        kiosk = issue_token(conn, "demo-leader", "bench-kiosk", read_only=True)
        writer = issue_token(conn, "demo-dispatcher", "bench-writer")
        conn.commit()
        conn.close()
        log = Path(f"/tmp/onemap-bench-outage-{uuid.uuid4().hex[:6]}.log")
        with onemap_serve(pg.dsn, log, workers=args.workers) as base:
            status, made = post_json(base + "/api/v1/incidents",
                                     {"id": str(uuid.uuid4()), "category": "public_order", "description": "bench",
                                      "lon": 107.4751, "lat": 38.1798,
                                      "observed_at": datetime.now(timezone.utc).isoformat()}, writer)
            assert status in (200, 201), made
            page = Stream(base, kiosk)
            page.wait_for(lambda e: e["data"].get("hello"))
            for _ in range(args.rounds):
                pg.stop()
                until = time.monotonic() + args.down
                while time.monotonic() < until:
                    status, headers, _ = get(base + "/api/v1/me", token=kiosk, timeout=10)
                    during[f"{status}{' + Retry-After' if headers.get('Retry-After') else ''}"] += 1
                    time.sleep(0.05)
                pg.start()
                t0 = time.monotonic()
                event_id = _commit_note(pg.dsn, made["id"])
                api_s = None
                while api_s is None:
                    if get(base + "/api/v1/me", token=kiosk, timeout=10)[0] == 200:
                        api_s = time.monotonic() - t0
                    else:
                        time.sleep(0.05)
                page.wait_for(lambda e, i=event_id: e["id"] == i, timeout=120)
                rows.append((api_s, time.monotonic() - t0))
            page.close()
        text = log.read_text()

    print(f"recovery after a database restart — onemap serve, {args.workers} worker processes, "
          f"{args.rounds} restarts, database down {args.down:g} s each")
    print(f"{'round':<8}{'api s':>8}{'live s':>8}")
    for i, (api_s, live_s) in enumerate(rows, 1):
        print(f"{i:<8}{api_s:>8.2f}{live_s:>8.2f}")
    print(f"worst: api {max(r[0] for r in rows):.2f} s, live page {max(r[1] for r in rows):.2f} s "
          "(bar: live within 2 s; peer before: 30 s)")
    print("answers while down: " + ", ".join(f"{k}: {v}" for k, v in sorted(during.items())))
    print(f"server log: {text.count('Traceback')} tracebacks, "
          f"{sum('unreachable (' in line for line in text.splitlines())} 'unreachable' lines, "
          f"{sum('database reachable again' in line for line in text.splitlines())} 'reachable again' lines "
          f"for {args.rounds} outages x {args.workers} processes")


if __name__ == "__main__":
    main()
