"""What the phase functions and local-time JSON cost, against the inline SQL they replaced.

    .venv/bin/python -m bench.phase [--rows 1000000] [--repeat 5]

A throwaway database gets the production migrations and ``--rows`` synthetic incident-like rows
(state, due_at, received_at; no grid needed: a plain table ``LIKE`` the columns). Each pair runs
the same scan with the definition (0010_phase.sql) and with the old inline text, alternating, and
prints the median of each and their ratio (1.0 = free). The peers:

* ``overdue count``: ``count(*) FILTER (WHERE incident_is_overdue(state, due_at, now()))`` against
  ``state NOT IN ('resolved', 'verified', 'closed', 'rejected') AND due_at <= now()``;
* ``phase per row``: ``incident_phase(state)`` against the old ``CASE WHEN state IN (…) …``;
* ``JSON times``: ``json_build_object('due_at', iso_local(due_at, tz), …)`` (the region's offset)
  against ``json_build_object('due_at', due_at, …)`` (the session zone's), 3 times per row as the
  API's list writes them.
"""
from __future__ import annotations

import argparse
import statistics
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from db.cluster import resolve_dsn
from db.core import connect, upgrade

PAIRS = {
    "overdue count": (
        "SELECT count(*) FILTER (WHERE incident_is_overdue(state, due_at, now())) FROM t",
        "SELECT count(*) FILTER (WHERE state NOT IN ('resolved', 'verified', 'closed', 'rejected')"
        " AND due_at <= now()) FROM t"),
    "phase per row": (
        "SELECT count(DISTINCT incident_phase(state)) FROM t",
        "SELECT count(DISTINCT CASE WHEN state IN ('new', 'accepted', 'dispatched', 'in_progress', 'on_site')"
        " THEN 'open' WHEN state IN ('resolved', 'verified') THEN 'resolved' ELSE 'closed' END) FROM t"),
    "JSON times": (
        "SELECT sum(length(json_build_object('due_at', iso_local(due_at, 'Asia/Shanghai'), 'received_at',"
        " iso_local(received_at, 'Asia/Shanghai'), 'observed_at', iso_local(received_at, 'Asia/Shanghai'))::text))"
        " FROM t",
        "SELECT sum(length(json_build_object('due_at', due_at, 'received_at', received_at,"
        " 'observed_at', received_at)::text)) FROM t"),
}


def _timed(cur, query: str) -> float:
    t0 = time.perf_counter()
    cur.execute(query)
    cur.fetchall()
    return time.perf_counter() - t0


def main() -> None:
    """Measure each pair on a throwaway database and print medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    server = resolve_dsn()
    name = f"onemap_bench_phase_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(urlunsplit(urlsplit(server)._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
    try:
        conn = connect(urlunsplit(urlsplit(server)._replace(path="/" + name)))
        print(f"migrating {name} …", flush=True)
        upgrade(conn)
        with conn.cursor() as cur:
            print(f"making {args.rows:,} rows …", flush=True)
            cur.execute("""CREATE TABLE t AS SELECT (ARRAY['new','accepted','dispatched','in_progress','on_site',
                                   'resolved','verified','closed','rejected'])[1 + mod(g, 9)] AS state,
                               now() - mod(g, 1000) * interval '1 hour' AS due_at,
                               now() - mod(g, 2000) * interval '1 hour' - interval '0.5 s' * mod(g, 3) AS received_at
                           FROM generate_series(1, %s) g""", (args.rows,))
            conn.commit()
            cur.execute("SET max_parallel_workers_per_gather = 0")  # one core each, comparable
            print(f"{'pair':<16}{'ours s':>10}{'inline s':>10}{'ratio':>8}")
            for label, (ours, peer) in PAIRS.items():
                a, b = [], []
                for _ in range(args.repeat):
                    a.append(_timed(cur, ours))
                    b.append(_timed(cur, peer))
                ma, mb = statistics.median(a), statistics.median(b)
                print(f"{label:<16}{ma:>10.3f}{mb:>10.3f}{ma / mb:>8.2f}", flush=True)
        conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
