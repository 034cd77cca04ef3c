"""Roll-ups per unit at every level by day and month (0035_rollup_units.sql): every dashboard
aggregate read through rollup_span equals a direct count over incident, for units of every level,
ranges with and without whole months, category filters, and with report-path changes both pending
(deltas) and folded."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from test_workflow import ADMIN

from data import incidents, rollup, stats
from db.core import app_dsn, connect

from conftest import scalar

TZ = "Asia/Shanghai"

# Per unit of %(level)s under %(scope)s and category, the roll-up's columns counted from incident.
TRUTH = """
SELECT left(i.cell_code, 3 + 3 * %(level)s) AS unit, i.category_code, count(*) AS n,
       count(*) FILTER (WHERE i.solved_level = 4) AS s4, count(*) FILTER (WHERE i.solved_level = 3) AS s3,
       count(*) FILTER (WHERE i.solved_level = 2) AS s2, count(*) FILTER (WHERE i.solved_level = 1) AS s1,
       count(*) FILTER (WHERE incident_is_late(i.resolved_at, i.due_at)) AS late,
       round(coalesce(sum(extract(epoch FROM i.resolved_at - i.received_at)), 0)::numeric, 1)::float8 AS h
FROM incident i JOIN region g ON g.region_code = i.region_code
WHERE i.cell_code LIKE %(scope)s || '%%'
  AND (%(since)s::date IS NULL OR local_day(i.received_at, g.timezone) >= %(since)s)
  AND (%(until)s::date IS NULL OR local_day(i.received_at, g.timezone) < %(until)s)
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
GROUP BY 1, 2 ORDER BY 1, 2
"""
SPAN = """
SELECT unit_code, category_code, sum(n)::bigint, sum(solved_4)::bigint, sum(solved_3)::bigint,
       sum(solved_2)::bigint, sum(solved_1)::bigint, sum(late)::bigint, round(sum(handling_s)::numeric, 1)::float8
FROM rollup_span(%(scope)s, %(level)s, %(since)s, %(until)s, %(categories)s::text[], %(days)s, true)
GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
"""
# The same over all categories at once (the '*' rows when no category is asked for).
TOTAL = """
SELECT unit_code, sum(n)::bigint, sum(solved_4)::bigint, sum(solved_3)::bigint, sum(solved_2)::bigint,
       sum(solved_1)::bigint, sum(late)::bigint, round(sum(handling_s)::numeric, 1)::float8
FROM rollup_span(%(scope)s, %(level)s, %(since)s, %(until)s, %(categories)s::text[], %(days)s)
GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1
"""


def _totals(truth):
    """Per unit, the per-category truth rows summed (handling seconds to 0.1 s)."""
    out: dict = {}
    for unit, _, *vals in truth:
        prev = out.get(unit, [0] * len(vals))
        out[unit] = [a + b for a, b in zip(prev, vals, strict=True)]
    return [(u, *v[:-1], round(v[-1], 1)) for u, v in sorted(out.items())]


def _rows(dsn, query, params):
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def span(demo_dsn):
    """The demo's received days: (first, last + 1), and a town, a village and a cell that have reports."""
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT min(local_day(received_at, %s)), max(local_day(received_at, %s)) + 1 FROM incident",
                    (TZ, TZ))
        first, end = cur.fetchone()
        cur.execute("SELECT cell_code FROM incident GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        cell = cur.fetchone()[0]
    conn.close()
    return first, end, [cell[:6], cell[:9], cell[:12], cell]


def _ranges(first: date, end: date):
    """Whole history; a range of whole months; 30 days crossing a month end; a month's inside; one day."""
    m0 = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    m2 = (m0 + timedelta(days=63)).replace(day=1)
    mid = first + (end - first) / 2
    return [(None, None), (first, end), (m0, m2), (m0 - timedelta(days=13), m0 + timedelta(days=17)),
            (m0 + timedelta(days=3), m0 + timedelta(days=20)), (m2 - timedelta(days=9), m2 + timedelta(days=40)),
            (mid, mid + timedelta(days=1))]


def _check_spans(dsn, span):
    first, end, units = span
    checked = 0
    for scope in units:
        top = (len(scope) - 3) // 3
        for level in range(top, 5):
            for since, until in _ranges(first, end):
                for categories in (None, ["public_order", "environment"]):
                    p = {"scope": scope, "level": level, "since": since, "until": until, "categories": categories}
                    truth = _rows(dsn, TRUTH, p)
                    for days in (False, True):
                        assert _rows(dsn, SPAN, p | {"days": days}) == truth, (p, days)
                        got, want = _rows(dsn, TOTAL, p | {"days": days}), _totals(truth)
                        assert [r[:-1] for r in got] == [r[:-1] for r in want], (p, days, "totals")
                        assert all(abs(a[-1] - b[-1]) < 0.5 for a, b in zip(got, want, strict=True))
                    checked += bool(truth)
    assert checked > 50  # most combinations hold reports


def test_rollup_span_equals_a_count_over_incident(demo_dsn, span):
    _check_spans(demo_dsn, span)


def _report(conn, now, lon, lat, category="public_order"):
    data = {"id": str(uuid.uuid4()), "category": category, "description": "测试", "lon": lon, "lat": lat,
            "observed_at": (now - timedelta(minutes=2)).isoformat()}
    return incidents.report(conn, ADMIN, incidents.validate_report(data, now), now=now)[0]


def test_pending_and_folded_changes_are_counted_alike(demo_dsn, span):
    conn = connect(app_dsn(demo_dsn))
    now = datetime.now(timezone.utc)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grid_unit "
                    "WHERE code = %s", (span[2][3],))
        lon, lat = cur.fetchone()
    made = [_report(conn, now, lon, lat, c) for c in ("public_order", "environment", "public_order")]
    with conn.cursor() as cur:  # one solved in the grid: an update of the incident, a -1/+1 delta pair
        for action in ("accept", "start", "resolve"):
            cur.execute("SELECT incident_act(%s, %s, 'test')", (made[0]["id"], action))
    conn.commit()
    today = datetime.now(timezone.utc).astimezone().date()
    wide = (span[0], max(span[1], today + timedelta(days=2)))
    assert scalar(demo_dsn, "SELECT count(*) FROM incident_rollup_delta") > 0
    _check_spans(demo_dsn, (*wide, span[2]))  # pending deltas included
    rollup.fold(conn)
    conn.close()
    assert scalar(demo_dsn, "SELECT count(*) FROM incident_rollup_delta") == 0
    _check_spans(demo_dsn, (*wide, span[2]))  # folded: through the triggers on the folded rows
    owner = connect(demo_dsn)  # the demo county as it was (other tests count its incidents)
    with owner.cursor() as cur:
        cur.execute("DELETE FROM incident WHERE id = ANY(%s::uuid[])", ([str(m["id"]) for m in made],))
    owner.commit()
    rollup.fold(owner)
    owner.close()
    _check_spans(demo_dsn, (*wide, span[2]))  # deleted, folded: the units' rows go back down


def test_stats_functions_equal_direct_counts(demo_dsn, span):
    first, end, units = span
    for scope in units[:3]:
        for since, until in _ranges(first, end)[1:5]:
            for cats in (None, ("public_order",)):
                f = stats.Filters(since=since, until=until, categories=cats, tz=TZ)
                level = (len(scope) - 3) // 3
                truth = _rows(demo_dsn, TRUTH, {"scope": scope, "level": level, "since": since, "until": until,
                                                "categories": list(cats) if cats else None})
                k = stats.kpis(demo_dsn, "150623", scope, f)
                assert k["reported"] == sum(t[2] for t in truth)
                assert k["solved_by_level"] == {4: sum(t[3] for t in truth), 3: sum(t[4] for t in truth),
                                                2: sum(t[5] for t in truth), 1: sum(t[6] for t in truth)}
                by_cat = {c["code"]: c for c in stats.categories(demo_dsn, scope, f)}
                for t in truth:
                    assert (by_cat[t[1]]["reported"], by_cat[t[1]]["solved_in_grid"], by_cat[t[1]]["late"]) == \
                        (t[2], t[3], t[7])
                assert sum(c["reported"] for c in by_cat.values()) == k["reported"]
                trend = stats.trend(demo_dsn, scope, f)
                assert sum(d["reported"] for d in trend) == k["reported"]
                assert all(d["reported"] > 0 for d in trend)
                kids = _rows(demo_dsn, TRUTH, {"scope": scope, "level": level + 1, "since": since, "until": until,
                                               "categories": list(cats) if cats else None})
                got = {c["code"]: c["reported"] for c in stats.children(demo_dsn, "150623", scope, level, f)}
                want: dict[str, int] = {}
                for t in kids:
                    want[t[0]] = want.get(t[0], 0) + t[2]
                assert {c: n for c, n in got.items() if n} == want
                cells = _rows(demo_dsn, TRUTH, {"scope": scope, "level": 4, "since": since, "until": until,
                                                "categories": list(cats) if cats else None})
                per_cell: dict[str, int] = {}
                for t in cells:
                    per_cell[t[0]] = per_cell.get(t[0], 0) + t[2]
                metrics = stats.cell_metrics(demo_dsn, "150623", scope, f)
                for code, n in per_cell.items():
                    pop = metrics[code]["population"]
                    assert metrics[code]["per_1000"] == (round(1000.0 * n / pop, 1) if pop else 0.0)


def test_the_app_role_reads_unit_rollups_and_cannot_write_them(demo_dsn):
    import psycopg2
    conn = connect(app_dsn(demo_dsn))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM incident_rollup_unit")
            assert cur.fetchone()[0] > 0
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("UPDATE incident_rollup_unit SET n = n + 1")
    finally:
        conn.rollback()
        conn.close()


LAYERS = [("incidents", 4, "count"), ("heat_cells", 4, "reports"), ("cells", 4, "reports"),
          ("villages", 3, "reports"), ("towns", 2, "reports"), ("banner", 1, "reports")]


def test_map_layers_count_reports_like_incident(demo_dsn, span):
    import json

    from domain import clock
    from layers import registry
    from layers.base import Query

    first, end, units = span
    checked = 0
    for scope in units[:2]:  # the banner, and a town (whose outline shows the banner above it)
        top = (len(scope) - 3) // 3
        for since, until in _ranges(first, end)[2:4]:
            q = Query(unit=scope, since=clock.day_start(since, TZ), until=clock.day_start(until, TZ))
            for name, level, field in LAYERS:
                truth = _rows(demo_dsn, TRUTH, {"scope": scope, "level": max(level, top), "since": since,
                                                "until": until, "categories": None})
                want: dict[str, int] = {}
                for t in truth:
                    want[t[0][:3 + 3 * level]] = want.get(t[0][:3 + 3 * level], 0) + t[2]
                fc = json.loads(registry.geojson(demo_dsn, name, ADMIN, q, zoom=5))
                for feat in fc["features"]:
                    p = feat["properties"]
                    code = p.get("cell_code") or p.get("code")
                    if p.get(field) is not None and code and (code.startswith(scope) or scope.startswith(code)):
                        assert p[field] == want.get(code, 0), (name, scope, since, code)
                        checked += 1
    assert checked > 500
