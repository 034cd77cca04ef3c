"""Benchmark: loading a synthetic incident history, against the bare-COPY floor of the same rows.

    python -m bench.load_incidents --incidents 1000000 [--breakdown]

Makes a throwaway database holding the demo county (no incidents), then measures, in one run:

1. floor  — the very same CSV text (regenerated chunk by chunk, generation untimed) COPYed into
   copies of ``incident`` / ``incident_event`` with no index, trigger, constraint or key: what
   PostgreSQL needs just to parse and store the rows; also the time our Python spends generating.
2. ours   — ``demo.incidents.load_incidents`` end to end (generate + COPY into the real tables
   with the cell-assignment trigger, foreign keys, GiST and btree indexes).
3. peer   — ``pg_restore -j <cores>`` of a dump of the database after our load, less the restore
   of its dump from before (the county without incidents): PostgreSQL's own way of loading the same
   rows into the same tables with the same indexes, keys and roll-ups (``--no-restore`` skips it).

Each phase starts after a CHECKPOINT; the machine's busy CPU-seconds of the floor and of ours are
printed against what ratio 0.5 allows.

``--breakdown`` adds the cost of each table feature by loading the first chunks into bare copies
that get one feature back at a time. The database is dropped at the end (``--keep`` keeps it).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg2

from db.bulk import TimeText, copy_rows
from db.cluster import pg_bindir, resolve_dsn
from db.core import connect, upgrade
from demo import incidents as gen
from demo import timelines as tl

REGION = "150623"
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc)  # fixed: same rows in every run
SEED = 1


def _with_db(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


def create_database(server_dsn: str, prefix: str) -> tuple[str, str]:
    """Create an empty throwaway database named ``prefix`` and a random suffix; return (name, dsn)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(_with_db(server_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
    admin.close()
    return name, _with_db(server_dsn, name)


def make_database(server_dsn: str, incidents: int = 0) -> tuple[str, str]:
    """Create and migrate a throwaway database holding the demo county (and ``incidents``
    incidents); return (name, dsn)."""
    from demo.loader import load_demo

    name, dsn = create_database(server_dsn, "onemap_bench")
    conn = connect(dsn)
    upgrade(conn)
    conn.close()
    load_demo(dsn, seed=SEED, incidents=incidents, now=NOW)
    return name, dsn


def drop_database(server_dsn: str, name: str) -> None:
    """Drop the throwaway database."""
    admin = psycopg2.connect(_with_db(server_dsn, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def chunks(conn, n: int, limit: int | None = None):
    """The CSV text load_incidents would COPY, chunk by chunk, with the time spent making it."""
    county = gen.read_county(conn, REGION)
    now_s = int(NOW.timestamp())
    times = TimeText(now_s - 366 * tl.DAY, now_s + 20 * tl.DAY)
    for index, start in enumerate(range(0, n, gen.CHUNK)):
        if limit is not None and index >= limit:
            return
        t = time.perf_counter()
        rng = np.random.default_rng([SEED, index])
        incidents, events = gen.chunk_rows(rng, county, REGION, min(gen.CHUNK, n - start), now_s, times)
        yield incidents, events, time.perf_counter() - t


BARE = "CREATE TABLE {t} (LIKE {src} INCLUDING DEFAULTS)"  # no index, trigger, check or key


def bare_tables(cur, suffix: str) -> tuple[str, str]:
    """Fresh feature-less copies of incident and incident_event; return their names."""
    names = (f"bench_incident_{suffix}", f"bench_event_{suffix}")
    for t, src in zip(names, ("incident", "incident_event"), strict=True):
        cur.execute(f"DROP TABLE IF EXISTS {t} CASCADE")  # bench-owned constant names
        cur.execute(BARE.format(t=t, src=src))
    return names


# One feature back at a time, on top of the bare copies (see --breakdown).
FEATURES = {
    "cell trigger": ["CREATE TRIGGER t BEFORE INSERT ON {i} FOR EACH ROW EXECUTE FUNCTION incident_assign_cell()"],
    "incident indexes": ["ALTER TABLE {i} ADD PRIMARY KEY (id)", "CREATE INDEX ON {i} USING gist (geom)",
                         "CREATE INDEX ON {i} (cell_code, received_at)",
                         "CREATE INDEX ON {i} (region_code, received_at)",
                         "CREATE INDEX ON {i} (region_code, due_at) WHERE state NOT IN ('closed', 'rejected')"],
    "incident foreign keys": ["ALTER TABLE {i} ADD FOREIGN KEY (region_code) REFERENCES region",
                              "ALTER TABLE {i} ADD FOREIGN KEY (category_code) REFERENCES incident_category",
                              "ALTER TABLE {i} ADD FOREIGN KEY (cell_code) REFERENCES grid_unit (code)",
                              "ALTER TABLE {i} ADD FOREIGN KEY (department_code) REFERENCES department",
                              "ALTER TABLE {i} ADD FOREIGN KEY (reporter_id) REFERENCES grid_worker"],
    "event index + key": ["ALTER TABLE {i} ADD PRIMARY KEY (id)", "ALTER TABLE {e} ADD PRIMARY KEY (id)",
                          "CREATE INDEX ON {e} (incident_id, at)",
                          "ALTER TABLE {e} ADD FOREIGN KEY (incident_id) REFERENCES {i}"],
}


def copy_pair(cur, names, incidents, events) -> tuple[float, float]:
    """COPY one chunk into the two tables; return (incident seconds, event seconds)."""
    t0 = time.perf_counter()
    copy_rows(cur, names[0], gen.INCIDENT_COLUMNS, incidents)
    t1 = time.perf_counter()
    copy_rows(cur, names[1], gen.EVENT_COLUMNS, events)
    return t1 - t0, time.perf_counter() - t1


def busy_cpu_s() -> float:
    """CPU seconds this machine has been busy (every process, every core: /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return sum(ticks[i] for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")  # user, nice, system, irq, softirq


def checkpoint(conn) -> None:
    """Write out what the previous phase left in shared buffers and WAL, so each phase starts clean
    (otherwise the floor's checkpoint lands in the middle of our load)."""
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("CHECKPOINT")
    conn.commit()


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program of the server's own version (pg_dump, pg_restore)."""
    return str(pg_bindir() / name)


def restore_seconds(server_dsn: str, dump: Path) -> float:
    """Seconds for ``pg_restore -j <cores>`` of ``dump`` into a new database (dropped after):
    PostgreSQL's own loader — tables, then COPY, then indexes, keys and triggers, in parallel."""
    name, dsn = create_database(server_dsn, "onemap_bench_restore")
    try:
        t = time.perf_counter()
        subprocess.run([pg_tool("pg_restore"), "--exit-on-error", "-j", str(os.cpu_count() or 1),
                        "-d", dsn, str(dump)], check=True)
        return time.perf_counter() - t
    finally:
        drop_database(server_dsn, name)


def dump_database(dsn: str, dump: Path) -> None:
    """A custom-format, uncompressed dump of the database (untimed: the peer's input)."""
    subprocess.run([pg_tool("pg_dump"), "-Fc", "-Z0", "-f", str(dump), dsn], check=True)


def run(dsn: str, n: int, breakdown: bool, breakdown_chunks: int, server_dsn: str | None = None) -> None:
    """Measure the floor and our loader (and optionally the breakdown) and print the ratios; with
    ``server_dsn``, also pg_restore of the same database before and after our load."""
    conn = connect(dsn)
    work = Path(tempfile.mkdtemp(prefix="onemap-bench-load-"))
    if server_dsn:
        dump_database(dsn, work / "before.dump")
    checkpoint(conn)
    floor_cpu = busy_cpu_s()
    with conn.cursor() as cur:
        names = bare_tables(cur, "floor")
        gen_s = floor_i = floor_e = 0.0
        for incidents, events, g in chunks(conn, n):
            gen_s += g
            a, b = copy_pair(cur, names, incidents, events)
            floor_i, floor_e = floor_i + a, floor_e + b
        conn.commit()
        floor_cpu = busy_cpu_s() - floor_cpu  # generation included: it ran in turns with the COPY
        cur.execute(f"SELECT count(*) FROM {names[1]}")
        n_events = cur.fetchone()[0]
        for t in names:
            cur.execute(f"DROP TABLE {t}")
        conn.commit()

    checkpoint(conn)
    ours_cpu, t = busy_cpu_s(), time.perf_counter()
    assert gen.load_incidents(conn, REGION, n, SEED, NOW) == n
    conn.commit()
    ours, ours_cpu = time.perf_counter() - t, busy_cpu_s() - ours_cpu
    t = time.perf_counter()
    gen.settle(conn)  # what `onemap demo load` does next (not in the ratio: the peer has no index)
    settle_s = time.perf_counter() - t
    rows = n + n_events
    floor = floor_i + floor_e
    print(f"{n:,} incidents + {n_events:,} events = {rows:,} rows ({n_events / n:.1f} events each)")
    print(f"  generation (Python, untimed in the floor) {gen_s:7.1f} s  {rows / gen_s:>12,.0f} rows/s")
    print(f"  floor: COPY into bare tables              {floor:7.1f} s  {rows / floor:>12,.0f} rows/s"
          f"   (incident {floor_i:.1f} s, events {floor_e:.1f} s)")
    print(f"  ours:  load_incidents end to end          {ours:7.1f} s  {rows / ours:>12,.0f} rows/s"
          f"   ({n / ours:,.0f} incidents/s)")
    print(f"  ratio ours / floor (rows/s)               {floor / ours:7.2f}")
    # generation overlaps the COPY in load_incidents, so ours − floor is what the table's
    # trigger, keys and indexes cost plus any generation time that did not hide behind the server
    print(f"  ours − floor (trigger, keys, indexes)     {ours - floor:7.1f} s")
    # the CPU budget: at ratio 0.5 ours has 2 × floor seconds, i.e. 2 × floor × cores CPU-seconds
    cores = os.cpu_count() or 1
    print(f"  busy CPU, whole machine ({cores} cores)      floor {floor_cpu:.1f} CPU-s with generation | "
          f"ours {ours_cpu:.1f} CPU-s ({ours_cpu / (ours * cores):.0%} of the cores) | "
          f"ratio 0.5 allows {2 * floor * cores:.1f} CPU-s")
    print(f"  then VACUUM (ANALYZE), after the commit   {settle_s:7.1f} s   (not in the ratio)")
    if server_dsn:
        # the second peer: PostgreSQL loading the same tables with the same indexes, keys and
        # triggers (pg_restore of a dump taken after our load, less the county without incidents)
        conn.commit()
        dump_database(dsn, work / "after.dump")
        checkpoint(conn)
        empty = restore_seconds(server_dsn, work / "before.dump")
        checkpoint(conn)
        full = restore_seconds(server_dsn, work / "after.dump")
        peer = full - empty
        print(f"  peer:  pg_restore -j {cores} of the same rows  {peer:7.1f} s  {rows / peer:>12,.0f} rows/s"
              f"   ({full:.1f} s restoring the database, less {empty:.1f} s for it without incidents)")
        print(f"  ratio ours / pg_restore (rows/s)          {peer / ours:7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    if breakdown:
        run_breakdown(conn, min(n, breakdown_chunks * gen.CHUNK), breakdown_chunks)
    conn.close()


def run_breakdown(conn, n: int, limit: int) -> None:
    """Seconds per table feature: bare copies with one feature added back, first ``limit`` chunks."""
    print(f"breakdown on {n:,} incidents (COPY seconds; generation excluded):")
    data = [(i.getvalue(), e.getvalue()) for i, e, _ in chunks(conn, n, limit)]
    base = None
    for label, statements in [("bare", [])] + list(FEATURES.items()):
        with conn.cursor() as cur:
            names = bare_tables(cur, "part")
            for s in statements:
                cur.execute(s.format(i=names[0], e=names[1]))
            conn.commit()
            ti = te = 0.0
            for incidents, events in data:
                a, b = copy_pair(cur, names, io.StringIO(incidents), io.StringIO(events))
                ti, te = ti + a, te + b
            conn.rollback()  # keep nothing; the next variant starts clean
        base = base or (ti, te)
        extra = "" if label == "bare" else f"   (+{ti + te - sum(base):.1f} s over bare)"
        print(f"  {label:<22} incident {ti:6.1f} s   events {te:6.1f} s{extra}")
    with conn.cursor() as cur:
        for t in ("bench_incident_part", "bench_event_part"):
            cur.execute(f"DROP TABLE IF EXISTS {t} CASCADE")
    conn.commit()


def main(argv: list[str] | None = None) -> None:
    """Command line: make the database, run the benchmark, drop the database."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--incidents", type=int, default=1_000_000)
    p.add_argument("--breakdown", action="store_true", help="also time each table feature")
    p.add_argument("--breakdown-chunks", type=int, default=2, help="chunks of 100k for --breakdown")
    p.add_argument("--keep", action="store_true", help="keep the throwaway database")
    p.add_argument("--no-restore", action="store_true", help="skip the pg_restore peer")
    args = p.parse_args(argv)
    server = resolve_dsn()
    t = time.perf_counter()
    name, dsn = make_database(server)
    print(f"demo county loaded into {name} in {time.perf_counter() - t:.1f} s")
    try:
        run(dsn, args.incidents, args.breakdown, args.breakdown_chunks, None if args.no_restore else server)
    finally:
        if args.keep:
            print(f"kept {dsn}")
        else:
            drop_database(server, name)


if __name__ == "__main__":
    main()
