"""The report path (0011_report_path.sql): one message and one transaction per report, refusals
that write nothing, no shared roll-up row locked by a report, and roll-ups that stay exactly equal
to a count over `incident` while reports and actions run concurrently through the served app."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import psycopg2
import psycopg2.extensions
import pytest
from test_workflow import ADMIN

from data import incidents, rollup
from data.users import issue_token
from db.core import app_dsn, connect

from conftest import scalar

SEAT = (107.4751, 38.1798)

# The roll-up as the readers see it (the view: folded + pending) against the same sums counted
# from incident itself; one row per key where they differ.
MISMATCH = """
WITH truth AS (
    SELECT i.cell_code, local_day(i.received_at, g.timezone) AS day, i.category_code, count(*) AS n,
           count(*) FILTER (WHERE i.solved_level = 4) AS s4, count(*) FILTER (WHERE i.solved_level = 3) AS s3,
           count(*) FILTER (WHERE i.solved_level = 2) AS s2, count(*) FILTER (WHERE i.solved_level = 1) AS s1,
           count(*) FILTER (WHERE incident_is_late(i.resolved_at, i.due_at)) AS late,
           coalesce(sum(extract(epoch FROM i.resolved_at - i.received_at)), 0)::float8 AS h
    FROM incident i JOIN region g ON g.region_code = i.region_code GROUP BY 1, 2, 3
), roll AS (
    SELECT cell_code, day, category_code, sum(n) AS n, sum(solved_4) AS s4, sum(solved_3) AS s3,
           sum(solved_2) AS s2, sum(solved_1) AS s1, sum(late) AS late, sum(handling_s) AS h
    FROM incident_rollup GROUP BY 1, 2, 3
    HAVING sum(n) <> 0 OR sum(solved_4 + solved_3 + solved_2 + solved_1) <> 0 OR sum(late) <> 0
)
SELECT count(*) FROM truth t FULL JOIN roll r USING (cell_code, day, category_code)
WHERE (t.n, t.s4, t.s3, t.s2, t.s1, t.late) IS DISTINCT FROM (r.n, r.s4, r.s3, r.s2, r.s1, r.late)
   OR abs(coalesce(t.h, 0) - coalesce(r.h, 0)) > 1e-3
"""


def payload(now, **kw):
    return {"id": str(uuid.uuid4()), "category": "public_order", "description": "路灯损坏", "lon": SEAT[0],
            "lat": SEAT[1], "observed_at": (now - timedelta(minutes=2)).isoformat(), **kw}


class CountingCursor(psycopg2.extensions.cursor):
    """Counts the messages a cursor sends to the server."""

    sent: list[str] = []

    def execute(self, query, vars=None):
        CountingCursor.sent.append(query)
        return super().execute(query, vars)


def test_a_report_is_one_message_and_one_transaction(demo_dsn):
    conn = psycopg2.connect(app_dsn(demo_dsn), cursor_factory=CountingCursor)
    now = datetime.now(timezone.utc)
    CountingCursor.sent.clear()
    item, created = incidents.report(conn, ADMIN, incidents.validate_report(payload(now), now), now=now)
    assert created and item["state"] == "new" and [e["action"] for e in item["timeline"]] == ["report"]
    assert len(CountingCursor.sent) == 1  # the report and its response: one round trip
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE  # committed
    conn.close()
    # the incident, its first event and its roll-up change were written by one transaction
    xmins = scalar(demo_dsn, """SELECT array_agg(DISTINCT x) FROM (
        SELECT xmin::text AS x FROM incident WHERE id = %(id)s
        UNION ALL SELECT xmin::text FROM incident_event WHERE incident_id = %(id)s) s""", {"id": item["id"]})
    assert len(xmins) == 1


@pytest.mark.parametrize("change, field", [({"category": "no_such_category"}, "category"),
                                           ({"lon": 106.27, "lat": 38.47}, "lon")])  # Yinchuan
def test_refusals_write_nothing(demo_dsn, change, field):
    conn = connect(app_dsn(demo_dsn))
    now = datetime.now(timezone.utc)
    body = payload(now, **change)
    with pytest.raises(incidents.Invalid) as err:
        incidents.report(conn, ADMIN, incidents.validate_report(body, now), now=now)
    conn.close()
    assert field in err.value.fields
    if field == "lon":
        assert 20_000 < err.value.extra["outside_m"] < 80_000
    assert scalar(demo_dsn, "SELECT count(*) FROM incident WHERE id = %s", (body["id"],)) == 0
    assert scalar(demo_dsn, "SELECT count(*) FROM incident_event WHERE incident_id = %s", (body["id"],)) == 0


def test_reused_id_with_another_payload_is_refused_and_changes_nothing(demo_dsn):
    conn = connect(app_dsn(demo_dsn))
    now = datetime.now(timezone.utc)
    body = payload(now)
    first, created = incidents.report(conn, ADMIN, incidents.validate_report(body, now), now=now)
    again, created_again = incidents.report(conn, ADMIN, incidents.validate_report(body, now), now=now)
    assert created and not created_again and again == first
    with pytest.raises(incidents.Invalid) as err:
        incidents.report(conn, ADMIN, incidents.validate_report({**body, "description": "other"}, now), now=now)
    conn.close()
    assert "id" in err.value.fields
    assert scalar(demo_dsn, "SELECT description FROM incident WHERE id = %s", (body["id"],)) == body["description"]


def _report_sql(conn, now, rid):
    with conn.cursor() as cur:
        cur.execute("SELECT incident_report(%s, '150623', 'public_order', 'held', %s, %s, %s, %s, NULL, "
                    "'grid_worker', %s, 'test')", (rid, SEAT[0], SEAT[1], now, now, rid))
        return cur.fetchone()[0]


def test_an_open_report_transaction_holds_no_row_another_report_needs(demo_dsn):
    """Two reports of the same cell, day and category: the second commits while the first is still
    open (with the old shared roll-up row it waited for the first one's commit)."""
    now = datetime.now(timezone.utc)
    first, second = connect(app_dsn(demo_dsn)), connect(app_dsn(demo_dsn))
    try:
        assert _report_sql(first, now, str(uuid.uuid4()))  # transaction left open
        with second.cursor() as cur:
            cur.execute("SET lock_timeout = '2s'")
        assert _report_sql(second, now, str(uuid.uuid4()))
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert scalar(demo_dsn, MISMATCH) == 0


def test_a_change_outside_the_rollup_writes_no_delta(demo_dsn):
    """Accepting an incident (or escalating it) changes no roll-up column, so it appends nothing."""
    conn = connect(app_dsn(demo_dsn))
    now = datetime.now(timezone.utc)
    item, _ = incidents.report(conn, ADMIN, incidents.validate_report(payload(now), now), now=now)
    with conn.cursor() as cur:
        cur.execute("SELECT incident_act(%s, 'accept', 'test')", (item["id"],))
        cur.execute("SELECT incident_act(%s, 'escalate', 'test')", (item["id"],))
        cur.execute("SELECT count(*) FROM incident_rollup_delta WHERE xmin::text::bigint = txid_current() % 4294967296")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT incident_act(%s, 'start', 'test')", (item["id"],))
        cur.execute("SELECT incident_act(%s, 'resolve', 'test')", (item["id"],))  # solved: one delta
        cur.execute("SELECT count(*) FROM incident_rollup_delta WHERE xmin::text::bigint = txid_current() % 4294967296")
        assert cur.fetchone()[0] == 1
    conn.rollback()
    conn.close()


def test_concurrent_reports_and_actions_keep_the_rollup_exact(demo_server, demo_dsn):
    """Reports and actions from many clients at once through the served app: the roll-up the
    dashboard reads equals a count over incident, before and after a fold."""
    conn = connect(demo_dsn)
    tokens = [issue_token(conn, "demo-dispatcher", f"rollup-{uuid.uuid4().hex[:6]}") for _ in range(2)]
    conn.commit()
    conn.close()
    errors: list[str] = []
    made: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def call(token, path, body):
        req = Request(f"{demo_server}{path}", data=json.dumps(body).encode(), method="POST",
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        try:
            with urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except HTTPError as exc:
            return exc.code, exc.read().decode()

    def client(k: int):
        token = tokens[k % 2]
        barrier.wait()
        for i in range(8):
            now = datetime.now(timezone.utc)
            status, item = call(token, "/api/v1/incidents", payload(now, category=["public_order", "fire_hazard"][i % 2]))
            if status != 201:
                errors.append(f"report: {status} {item}")
                continue
            with lock:
                made.append(item["id"])
            if i % 2:  # half of them are worked through to resolved, some reopened
                for action in ["accept", "start", "resolve"] + (["reopen"] if i % 4 == 3 else []):
                    status, out = call(token, f"/api/v1/incidents/{item['id']}/actions/{action}", {})
                    if status != 200:
                        errors.append(f"{action}: {status} {out}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert len(made) == 96
    assert scalar(demo_dsn, MISMATCH) == 0
    assert scalar(demo_dsn, "SELECT count(*) FROM incident") == scalar(demo_dsn, "SELECT sum(n) FROM incident_rollup")
    solved = scalar(demo_dsn, "SELECT count(*) FROM incident WHERE id = ANY(%s::uuid[]) AND solved_level IS NOT NULL",
                    (made,))
    assert solved == 12 * 2  # i = 1, 5 resolved and kept; i = 3, 7 reopened
    owner = connect(demo_dsn)
    rollup.fold(owner)
    owner.close()
    assert scalar(demo_dsn, MISMATCH) == 0


def test_folds_from_many_sessions_at_once_fold_each_change_once(demo_dsn):
    owner = connect(demo_dsn)
    now = datetime.now(timezone.utc)
    for _ in range(5):  # some pending changes of our own (the served app may fold them too)
        _report_sql(owner, now, str(uuid.uuid4()))
    owner.commit()
    totals = scalar(demo_dsn, "SELECT array[sum(n), sum(solved_4), sum(late)] FROM incident_rollup")
    folded: list[int] = []
    barrier = threading.Barrier(4)

    def fold():
        c = connect(app_dsn(demo_dsn))
        barrier.wait()
        folded.append(rollup.fold(c))
        c.close()

    threads = [threading.Thread(target=fold) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    rollup.fold(owner)
    owner.close()
    assert scalar(demo_dsn, "SELECT count(*) FROM incident_rollup_delta") == 0
    assert scalar(demo_dsn, "SELECT array[sum(n), sum(solved_4), sum(late)] FROM incident_rollup") == totals
    assert scalar(demo_dsn, MISMATCH) == 0


def test_a_new_report_echo_is_not_a_reveal_but_a_retry_is(demo_server, demo_dsn):
    """The answer to a new report is what its sender just sent: no audit row. A retry answers with
    the stored record, audited as any read of it. The bearer token costs one statement."""
    conn = connect(demo_dsn)
    token = issue_token(conn, "demo-dispatcher", f"echo-{uuid.uuid4().hex[:6]}")
    conn.commit()
    conn.close()
    body = payload(datetime.now(timezone.utc))

    def post():
        req = Request(demo_server + "/api/v1/incidents", data=json.dumps(body).encode(), method="POST",
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())

    audited = """SELECT count(*) FROM audit_log WHERE username = 'demo-dispatcher'
                 AND detail->'revealed' ? ('incident:' || %s)"""
    status, item = post()
    assert status == 201 and item["description"] == body["description"]
    assert scalar(demo_dsn, audited, (body["id"],)) == 0
    status, item = post()
    assert status == 200 and item["description"] == body["description"]
    assert scalar(demo_dsn, audited, (body["id"],)) == 1
    used = scalar(demo_dsn, "SELECT last_used_at FROM api_token WHERE name LIKE 'echo-%%' ORDER BY id DESC LIMIT 1")
    assert used is not None  # the token's use was recorded by the lookup itself


def test_a_pooled_connection_changes_mode_only_when_asked_for_another(demo_dsn):
    """``set_session`` is a round trip; the pool calls it only when the mode differs, and a reader
    is still read-only after a writer used the same connection."""
    from db.core import pool, pooled, writer

    dsn = app_dsn(demo_dsn)
    p = pool(dsn)
    with writer(dsn, autocommit=True) as conn:
        assert conn.autocommit and conn.readonly is False
        first = conn
    with pooled(dsn) as conn:
        assert conn is first and conn.autocommit and conn.readonly is True  # LIFO: the same one, re-moded
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("CREATE TEMP TABLE should_not_exist (x int)")
    with writer(dsn) as conn:
        assert not conn.autocommit and conn.readonly is False
    assert p is pool(dsn)
