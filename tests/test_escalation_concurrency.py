"""Escalation never deadlocks (0011_report_path.sql): runners in several threads and incident
actions at once, on the same overdue incidents; no lock error, and every missed level escalated
exactly once per incident."""
from __future__ import annotations

import logging
import os
import random
import threading
import uuid
from datetime import timedelta

import pytest
from test_workflow import ADMIN

from data import incidents
from db.core import app_dsn, connect

from conftest import DEMO_NOW, _drop, _fresh_database

T0 = DEMO_NOW - timedelta(days=40)
JUMP = T0 + timedelta(days=30)  # every incident has missed the grid, village and town deadlines
N = 120


@pytest.fixture(scope="module")
def esc_dsn(server_dsn):
    """The demo county with N incidents reported at T0 and nothing else."""
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "escalation")
    load_demo(dsn, seed=1, incidents=0, now=DEMO_NOW)
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 3, 1))).geom AS p
                       FROM grid_unit WHERE level = 4 ORDER BY code LIMIT 40) s""")
        points = cur.fetchall()
        for k in range(N):
            lon, lat = points[k % len(points)]
            cur.execute("SELECT incident_report(%s, '150623', 'public_order', 'old', %s, %s, %s, %s, NULL, "
                        "'grid_worker', 'x', 'test')", (str(uuid.uuid4()), lon, lat, T0, T0))
    conn.commit()
    conn.close()
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


def test_runners_and_actions_at_once_never_deadlock_and_escalate_once(esc_dsn, caplog):
    conn = connect(esc_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id::text FROM incident ORDER BY id")
        ids = [r[0] for r in cur.fetchall()]
    conn.close()
    assert len(ids) == N
    errors: list[BaseException] = []
    escalated_by_hand: set[str] = set()
    made: list[int] = []
    barrier = threading.Barrier(8)

    def runner(k: int):
        c = connect(app_dsn(esc_dsn))  # as the server runs it
        try:
            barrier.wait()
            for _ in range(3):
                made.append(incidents.escalate_due(c, now=JUMP, batch=3 + k))
        except BaseException as exc:  # noqa: BLE001 — any failure is the test's finding
            errors.append(exc)
        finally:
            c.close()

    def actor(k: int):
        rng = random.Random(k)
        c = connect(app_dsn(esc_dsn))
        try:
            barrier.wait()
            for _ in range(60):
                iid = rng.choice(ids)
                action = rng.choice(["accept", "dispatch", "start", "arrive", "accept", "escalate"])
                try:
                    incidents.act(c, ADMIN, iid, action, now=JUMP)
                    if action == "escalate":
                        escalated_by_hand.add(iid)
                except (incidents.Conflict, incidents.Invalid):
                    pass  # the state moved on under a runner or another action: a fair refusal
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            c.close()

    with caplog.at_level(logging.WARNING, logger="onemap.escalation"):
        threads = [threading.Thread(target=runner, args=(k,)) for k in range(4)]
        threads += [threading.Thread(target=actor, args=(k,)) for k in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        made.append(incidents.escalate_due(connect(esc_dsn), now=JUMP))  # whatever was held is done now
    assert errors == []
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]  # not even a retried deadlock

    conn = connect(esc_dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT i.id::text, i.handling_level,
                              array_agg(e.level ORDER BY e.at, e.id) FILTER (WHERE e.action = 'escalate'),
                              array_agg(e.actor ORDER BY e.at, e.id) FILTER (WHERE e.action = 'escalate')
                       FROM incident i LEFT JOIN incident_event e ON e.incident_id = i.id
                       GROUP BY i.id, i.handling_level""")
        rows = cur.fetchall()
    conn.close()
    assert len(rows) == N
    by_system = 0
    for iid, level, levels, actors in rows:
        # each level from 3 down to the one it is handled at now, exactly once, in order
        assert levels == list(range(3, level - 1, -1)), (iid, level, levels)
        if iid not in escalated_by_hand:
            assert level == 1 and actors == ["system"] * 3, (iid, level, actors)
        by_system += actors.count("system")
    assert sum(made) == by_system  # the runners counted exactly the escalations they made
