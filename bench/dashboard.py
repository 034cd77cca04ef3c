"""Dashboard speed against the naive approach, on a database you point it at.

    python -m bench.dashboard --dsn postgresql://…/db [--naive-limit 1000000] [--browser]

Measures, in one run and on the same data:
- ours: what the map and side panel fetch — per-cell clusters (low zoom), capped points (high
  zoom), KPIs and chart series from roll-ups — time (median of 5) and payload bytes;
- the peer, the naive approach: every incident as one GeoJSON FeatureCollection (for
  client-side clustering), built by PostGIS, time and bytes (capped at --naive-limit rows; the
  ratio is scaled up linearly to the full table and says so);
- with --browser: first paint of / and /wall in headless Chromium (login to KPIs shown and map
  drawn), and the time Chromium needs just to JSON.parse the naive payload.
- ``--levels``: every side-panel aggregate (KPIs, trend, categories, children, cell metrics) and
  the cluster layer at every level (banner, a town, a village, a cell) for 30 days and a year,
  each against the same sums read from the cell × day × category roll-up (``incident_rollup``,
  what these panels read before 0035), with the 150 ms budget marked.
- ``--console``: the dispatch console's table (``data.console.page``, 50 rows and the count, as a
  county dispatcher) for its usual views and free text, each against the naive query (the same
  filter, every match counted exactly and sorted), with the 150 ms budget marked.
Prints ratios; asserts nothing.
"""
from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from datetime import datetime, timezone

from data import stats as agg
from db.core import connect


def timed(fn, repeat: int = 5):
    """(median seconds, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def naive(dsn: str, limit: int) -> tuple[float, int, int]:
    """Seconds and bytes for all incidents (up to ``limit``) as one GeoJSON, and rows used."""
    conn = connect(dsn)
    with conn.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("""SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
                         'type', 'Feature', 'geometry', ST_AsGeoJSON(geom, 6)::json,
                         'properties', json_build_object('id', id, 'state', state, 'category', category_code))))::text,
                         count(*)
                       FROM (SELECT * FROM incident LIMIT %s) s""", (limit,))
        body, rows = cur.fetchone()
        seconds = time.perf_counter() - t0
    conn.close()
    return seconds, len(body.encode()), rows


# The peer: the same sums over the cell-level roll-up view, as the panels read them before 0035.
CELL_ROLLUP = {
    "kpis": """SELECT sum(n), sum(solved_4), sum(solved_3), sum(solved_2), sum(solved_1), sum(late), sum(handling_s)
               FROM incident_rollup WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s""",
    "trend": """SELECT date_trunc('week', day)::date, sum(n), sum(solved_4 + solved_3 + solved_2 + solved_1)
                FROM incident_rollup WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s
                GROUP BY 1""",
    "categories": """SELECT category_code, sum(n), sum(solved_4), sum(late) FROM incident_rollup
                     WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s GROUP BY 1""",
    "children": """SELECT left(cell_code, length(%(scope)s) + 3), sum(n), sum(solved_4) FROM incident_rollup
                   WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s GROUP BY 1""",
    "cell metrics": """SELECT cell_code, sum(n), sum(solved_4) FROM incident_rollup
                       WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s GROUP BY 1""",
}


def _peer(dsn: str, name: str, scope: str, f) -> float:
    conn = connect(dsn)
    with conn.cursor() as cur:
        seconds, _ = timed(lambda: (cur.execute(CELL_ROLLUP[name], {"scope": scope, **f.params()}), cur.fetchall()),
                           repeat=3)
    conn.close()
    return seconds


def _panels(dsn, region, scope, level, f, leader, span, registry) -> dict:
    """The side panel's aggregates and the cluster layer for one unit and range, as calls."""
    return {
        "kpis": lambda: agg.kpis(dsn, region, scope, f),
        "trend": lambda: agg.trend(dsn, scope, f, "week"),
        "categories": lambda: agg.categories(dsn, scope, f),
        "children": lambda: agg.children(dsn, region, scope, level, f),
        "cell metrics": lambda: agg.cell_metrics(dsn, region, scope, f),
        "clusters": lambda: registry.geojson(dsn, "incidents", leader, registry.Query(unit=scope, **span), 9),
    }


def levels(dsn: str, region: str, now: datetime) -> None:
    """Every panel at every level, 30 days and a year, against the cell-level roll-up."""
    from datetime import timedelta

    from domain.policy import Caller
    from layers import registry
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT cell_code FROM incident WHERE region_code = %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                    (region,))
        cell = cur.fetchone()[0]
    conn.close()
    tz = agg.region_timezone(dsn, region)
    leader = Caller("leader", region, region)
    print(f"\n{'panel':14} {'unit':16} {'range':7} {'ours ms':>9} {'cell roll-up ms':>16} {'ratio':>7}")
    worst = 0.0
    for scope in (cell[:6], cell[:9], cell[:12], cell):
        level = (len(scope) - 3) // 3
        for days in (30, 365):
            f = agg.Filters.last_days(days, now=now, tz=tz)
            span = {"since": now - timedelta(days=days), "until": now}
            panels = _panels(dsn, region, scope, level, f, leader, span, registry)
            for name, fn in panels.items():
                if name == "children" and level >= 4:
                    continue
                ours, _ = timed(fn, repeat=3)
                worst = max(worst, ours)
                peer = _peer(dsn, name, scope, f) if name in CELL_ROLLUP else float("nan")
                flag = "" if ours <= 0.150 else "  > 150 ms"
                print(f"{name:14} {scope:16} {days:>4} d {ours * 1000:9.1f} {peer * 1000:16.1f} "
                      f"{peer / ours:6.1f}×{flag}")
    print(f"slowest panel: {worst * 1000:.1f} ms (goal ≤ 150 ms)")


NAIVE_CONSOLE = """SELECT (SELECT count(*) FROM incident i WHERE {w}),
       (SELECT array_agg(id) FROM (SELECT i.id FROM incident i WHERE {w} ORDER BY i.received_at DESC LIMIT 50) p)"""


def console(dsn: str, region: str, now: datetime) -> None:
    """The console's views and free text: ours against the naive count-and-sort, median of 3."""
    from datetime import timedelta

    from data import console as con
    from data.users import Actor

    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT left(id::text, 6), left(cell_code, 9) FROM incident WHERE region_code = %s LIMIT 1",
                    (region,))
        prefix, town = cur.fetchone()
    conn.rollback()
    actor = Actor(user_id=None, username="bench", role="dispatcher", unit_code=region, region_code=region,
                  department_code=None)
    tz = agg.region_timezone(dsn, region)
    day = (now - timedelta(days=14)).date().isoformat(), now.date().isoformat()
    text = "strpos(lower(i.description), %(t)s) > 0"
    views = [  # label, console filters, the naive query's filter
        ("all, newest first", {}, "true"),
        ("closed, last 14 days", {"states": ["closed"], "since": day[0], "until": day[1]},
         "i.state = 'closed' AND i.received_at >= %(since)s"),
        ("the 'new' queue", {"queue": "new"}, "i.state = 'new'"),
        ("a town's overdue", {"unit": town, "overdue": True},
         "i.cell_code LIKE %(town)s AND incident_is_overdue(i.state, i.due_at, %(now)s)"),
        ("an incident number prefix", {"number": prefix}, "i.id::text LIKE %(prefix)s"),
        ("free text, 1 character", {"text": "漏"}, text.replace("%(t)s", "'漏'")),
        ("free text, 2 characters", {"text": "垃圾"}, text.replace("%(t)s", "'垃圾'")),
        ("free text, 4 characters", {"text": "屋顶漏雨"}, text.replace("%(t)s", "'屋顶漏雨'")),
        ("free text, no match", {"text": "水管爆裂"}, text.replace("%(t)s", "'水管爆裂'")),
    ]
    params = {"since": now - timedelta(days=14), "town": town + "%", "now": now, "prefix": prefix + "%"}
    print(f"\n{'console view':28} {'ours ms':>9} {'matches':>10} {'naive ms':>10} {'ratio':>7}")
    worst = 0.0
    for label, raw, where in views:
        q = con.parse_query(raw)
        ours, (_, total) = timed(lambda q=q: con.page(conn, actor, q, tz=tz, end=50, now=now), repeat=3)

        def plain(where=where):
            with conn.cursor() as cur:
                cur.execute(NAIVE_CONSOLE.format(w=f"i.region_code = '{region}' AND {where}"), params)
                found = cur.fetchone()
            conn.rollback()
            return found

        peer, _ = timed(plain, repeat=3)
        worst = max(worst, ours)
        shown = f"{con.COUNT_CAP:,}+" if total > con.COUNT_CAP else f"{total:,}"
        print(f"{label:28} {ours * 1000:9.1f} {shown:>10} {peer * 1000:10.1f} {ours / peer:7.2f}"
              + ("" if ours <= 0.150 else "   over 150 ms"))
    counts, _ = timed(lambda: con.queue_counts(conn, actor, tz=tz, now=now), repeat=3)
    print(f"{'the three queue counts':28} {counts * 1000:9.1f}")
    print(f"slowest console view: {max(worst, counts) * 1000:.1f} ms (goal ≤ 150 ms)")
    conn.close()


def browser_paint(dsn: str) -> dict[str, float]:
    """Seconds from opening / and /wall (logged in) to numbers shown and the map drawn."""
    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from app import Settings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=dsn, escalate_every_s=0)), host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=srv.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    out = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium",
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = b.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(base + "/login")
        page.fill("#username", "demo-leader")
        page.fill("#password", "onemap-leader")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        for path, kpi in (("/", "#m-kpi-open"), ("/wall", "#w-kpi-open")):
            t0 = time.perf_counter()
            page.goto(base + path)
            page.wait_for_function(f"document.querySelector('{kpi}') && "
                                   f"document.querySelector('{kpi}').innerText !== '–'", timeout=120_000)
            page.wait_for_function("document.querySelectorAll('.leaflet-map-pane path').length > 300", timeout=120_000)
            out[path] = time.perf_counter() - t0
        b.close()
    srv.close()
    return out


def main() -> None:
    """Run the comparison and print it."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", help="a loaded database (default: a throwaway one with --incidents)")
    ap.add_argument("--incidents", type=int, default=1_000_000, help="without --dsn: incidents to load")
    ap.add_argument("--region", default="150623")
    ap.add_argument("--naive-limit", type=int, default=1_000_000)
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--levels", action="store_true", help="every panel at every level against the cell roll-up")
    ap.add_argument("--console", action="store_true", help="the dispatch console's views and free text")
    ap.add_argument("--now", help="ISO time the ranges end at (default: now; a generated load's own 'now')")
    args = ap.parse_args()
    if args.dsn is None:
        _throwaway(args)
        return
    run(args)


def _throwaway(args) -> None:
    """Make a database with the demo county and ``args.incidents`` (bench.load_incidents' seed and
    time), run on it, drop it."""
    from bench.load_incidents import NOW, REGION, SEED, drop_database, make_database
    from db.cluster import resolve_dsn
    from demo.incidents import load_incidents

    server = resolve_dsn()
    name, args.dsn = make_database(server)
    try:
        conn = connect(args.dsn)
        t0 = time.perf_counter()
        load_incidents(conn, REGION, args.incidents, SEED, NOW)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()
        print(f"(loaded {args.incidents:,} incidents in {time.perf_counter() - t0:.0f} s)")
        args.now = args.now or NOW.isoformat()
        run(args)
    finally:
        drop_database(server, name)


def run(args) -> None:
    """The comparison on ``args.dsn``."""
    conn = connect(args.dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE region_code = %s", (args.region,))
        total = cur.fetchone()[0]
    conn.close()
    print(f"incidents in {args.region}: {total:,}")
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(timezone.utc)
    if args.levels:
        levels(args.dsn, args.region, now)
    if args.console:
        console(args.dsn, args.region, now)
    f = agg.Filters.last_days(365, now=now, tz=agg.region_timezone(args.dsn, args.region))
    seat_bbox = (107.42, 38.14, 107.53, 38.22)  # a zoom-14 view of the banner seat
    # the map's incidents layer (layers.registry, variants by zoom) as the banner's leader reads it
    from datetime import timedelta

    from domain.policy import Caller
    from layers import registry
    leader, year = Caller("leader", args.region, args.region), {"since": now - timedelta(days=365), "until": now}
    cases = {
        "clusters (zoom 9, 1 year)": lambda: registry.geojson(args.dsn, "incidents", leader,
                                                              registry.Query(**year), 9),
        "points (zoom 14, seat)": lambda: registry.geojson(args.dsn, "incidents", leader,
                                                           registry.Query(bbox=seat_bbox, **year), 14),
        "kpis (banner, 1 year)": lambda: agg.kpis(args.dsn, args.region, args.region, f),
        "trend (weeks, 1 year)": lambda: agg.trend(args.dsn, args.region, f, "week"),
        "children + categories": lambda: (agg.children(args.dsn, args.region, args.region, 1, f),
                                          agg.categories(args.dsn, args.region, f)),
    }
    ours_total = 0.0
    print(f"{'ours':32} {'median s':>9} {'bytes':>12}")
    for name, fn in cases.items():
        seconds, result = timed(fn)
        size = len(result.encode()) if isinstance(result, str) else len(repr(result))
        ours_total += seconds if name.startswith(("clusters", "kpis", "trend", "children")) else 0
        print(f"{name:32} {seconds:9.3f} {size:12,}")
    n_seconds, n_bytes, n_rows = naive(args.dsn, min(args.naive_limit, total))
    scale = total / n_rows if n_rows else 1.0
    print(f"{'naive: all points as GeoJSON':32} {n_seconds:9.3f} {n_bytes:12,}   ({n_rows:,} rows"
          + (f"; ×{scale:.1f} to the full table: ~{n_seconds * scale:.1f} s, ~{n_bytes * scale / 1e9:.2f} GB)"
             if scale > 1 else ")"))
    clusters_s, clusters = timed(cases["clusters (zoom 9, 1 year)"])
    print(f"ratio naive / ours, first map load (server): {n_seconds * scale / clusters_s:,.0f}×  "
          f"payload: {n_bytes * scale / len(clusters.encode()):,.0f}×")
    if args.browser:
        paint = browser_paint(args.dsn)
        for path, seconds in paint.items():
            print(f"first paint {path:6} {seconds:7.2f} s (login → numbers and map shown)")


if __name__ == "__main__":
    main()
