"""The closed loop in the database: state machine, idempotent reports, deadlines, escalation."""
from __future__ import annotations

import json
import select
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import incidents
from db.core import connect
from geo.datum import wgs84_to_gcj02

SHANGHAI = timezone(timedelta(hours=8))
SEAT = (107.4751, 38.1798)


@dataclass(frozen=True)
class Who:
    """A minimal actor (the fields data.incidents reads)."""

    username: str = "tester"
    role: str = "admin"
    unit_code: str = "150623"
    region_code: str = "150623"
    department_code: str | None = None
    worker_id: int | None = None


ADMIN = Who()


def transitions(conn) -> dict[tuple[str, str], str]:
    with conn.cursor() as cur:
        cur.execute("SELECT action, from_state, to_state FROM incident_transition")
        return {(a, f): t for a, f, t in cur.fetchall()}


def new_report(conn, now, lon=SEAT[0], lat=SEAT[1], **kw):
    payload = {"id": str(uuid.uuid4()), "category": "family_dispute", "description": "邻里纠纷",
               "lon": lon, "lat": lat, "observed_at": (now - timedelta(minutes=5)).isoformat(), **kw}
    rep = incidents.validate_report(payload, now)
    item, created = incidents.report(conn, ADMIN, rep, now=now)
    assert created
    return item


@pytest.fixture
def conn(quiet_dsn):
    c = connect(quiet_dsn)
    yield c
    c.close()


NOW = datetime(2026, 6, 15, 9, 0, tzinfo=SHANGHAI)


def test_report_sets_grid_deadline_and_cell(conn):
    item = new_report(conn, NOW)
    assert item["state"] == "new" and item["handling_level"] == 4
    assert datetime.fromisoformat(item["due_at"]) == datetime(2026, 6, 16, 0, 0, tzinfo=SHANGHAI)
    assert item["cell_code"].startswith("150623001")
    assert [e["action"] for e in item["timeline"]] == ["report"]


def test_retry_is_idempotent_and_reuse_is_refused(conn):
    payload = {"id": str(uuid.uuid4()), "category": "public_order", "lon": SEAT[0], "lat": SEAT[1],
               "observed_at": NOW.isoformat()}
    first, created = incidents.report(conn, ADMIN, incidents.validate_report(payload, NOW), now=NOW)
    again, created_again = incidents.report(conn, ADMIN, incidents.validate_report(payload, NOW), now=NOW)
    assert created and not created_again and first == again
    with pytest.raises(incidents.Invalid, match="different report"):
        incidents.report(conn, ADMIN, incidents.validate_report({**payload, "description": "x"}, NOW), now=NOW)


def test_concurrent_duplicates_make_one_row(quiet_dsn):
    payload = {"id": str(uuid.uuid4()), "category": "fire_hazard", "lon": SEAT[0], "lat": SEAT[1],
               "observed_at": NOW.isoformat()}
    results, barrier = [], threading.Barrier(8)

    def post():
        c = connect(quiet_dsn)
        barrier.wait()
        results.append(incidents.report(c, ADMIN, incidents.validate_report(payload, NOW), now=NOW))
        c.close()

    threads = [threading.Thread(target=post) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert len({json.dumps(item, sort_keys=True) for item, _ in results}) == 1
    c = connect(quiet_dsn)
    with c.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE id = %s", (payload["id"],))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count(*) FROM incident_event WHERE incident_id = %s", (payload["id"],))
        assert cur.fetchone()[0] == 1
    c.close()


def test_outside_county_says_how_far(conn):
    with pytest.raises(incidents.Invalid) as err:
        new_report(conn, NOW, lon=106.27, lat=38.47)  # Yinchuan, Ningxia
    assert 20_000 < err.value.extra["outside_m"] < 80_000


def test_gcj02_input_is_converted(conn):
    glon, glat = wgs84_to_gcj02(*SEAT)
    item = new_report(conn, NOW, lon=float(glon), lat=float(glat), crs="gcj02")
    assert abs(item["lon"] - SEAT[0]) < 1e-7 and abs(item["lat"] - SEAT[1]) < 1e-7


@pytest.mark.parametrize("bad, field", [
    ({"lon": float("nan")}, "lon"), ({"lat": 91}, "lat"), ({"lon": "107"}, "lon"), ({"id": "x"}, "id"),
    ({"observed_at": "2026-06-15T09:00"}, "observed_at"), ({"observed_at": "2027-01-01T00:00Z"}, "observed_at"),
    ({"description": "x" * 4001}, "description"), ({"crs": "bd09"}, "crs"), ({"category": None}, "category")])
def test_bad_fields_are_named(bad, field):
    payload = {"id": str(uuid.uuid4()), "category": "public_order", "lon": SEAT[0], "lat": SEAT[1],
               "observed_at": NOW.isoformat(), **bad}
    with pytest.raises(incidents.Invalid) as err:
        incidents.validate_report(payload, NOW)
    assert field in err.value.fields


ACTIONS = sorted(incidents.ACTION_ROLES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=12))
def test_no_sequence_reaches_an_illegal_state(conn, actions):
    """Random action sequences: each succeeds exactly when the table allows it, and the stored
    timeline is always a legal history."""
    table = transitions(conn)
    item = new_report(conn, NOW)
    t = NOW
    for action in actions:
        t += timedelta(minutes=7)
        state, level = item["state"], item["handling_level"]
        allowed = sorted(a for (a, f) in table if f == state)
        legal = (action, state) in table and not (action == "escalate" and level == 1)
        try:
            item = incidents.act(conn, ADMIN, item["id"], action, now=t)
        except incidents.Conflict as exc:
            assert not legal and exc.extra["allowed"] == allowed
            continue
        except incidents.Invalid:
            assert action == "escalate" and level == 1
            continue
        assert legal and item["state"] == table[(action, state)]
    history = incidents.get(conn, ADMIN, item["id"])["timeline"]
    assert history[0]["action"] == "report" and history[0]["to_state"] == "new"
    for prev, ev in pairwise(history):
        assert ev["from_state"] == prev["to_state"]
        assert table[(ev["action"], ev["from_state"])] == ev["to_state"]
    levels = [e["level"] for e in history if e["action"] == "escalate"]
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)
    assert history[-1]["to_state"] == incidents.get(conn, ADMIN, item["id"])["state"]


def test_escalation_exactly_once_per_level_with_a_simulated_clock(conn, quiet_dsn):
    item = new_report(conn, NOW)
    day_end = datetime(2026, 6, 16, 0, 0, tzinfo=SHANGHAI)
    incidents.escalate_due(conn, now=day_end - timedelta(seconds=1))
    assert incidents.get(conn, ADMIN, item["id"])["handling_level"] == 4  # not yet due
    assert incidents.escalate_due(conn, now=day_end) >= 1  # this one and others of the same day
    assert incidents.escalate_due(conn, now=day_end) == 0  # a second run changes nothing
    got = incidents.get(conn, ADMIN, item["id"])
    assert got["handling_level"] == 3
    assert datetime.fromisoformat(got["due_at"]) == day_end + timedelta(days=3)
    # the clock jumps a month: two runners at once climb the remaining levels exactly once
    jump = day_end + timedelta(days=30)
    made = []

    def run():
        c = connect(quiet_dsn)
        made.append(incidents.escalate_due(c, now=jump))
        c.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    got = incidents.get(conn, ADMIN, item["id"])
    escalations = [(e["level"], datetime.fromisoformat(e["at"])) for e in got["timeline"] if e["action"] == "escalate"]
    assert [lvl for lvl, _ in escalations] == [3, 2, 1]
    # each level is reached at the deadline of the one below, not when the runner woke up
    assert [at for _, at in escalations] == [day_end, day_end + timedelta(days=3), day_end + timedelta(days=8)]
    assert got["handling_level"] == 1
    assert datetime.fromisoformat(got["due_at"]) == day_end + timedelta(days=15)
    incidents.escalate_due(conn, now=jump + timedelta(days=365))  # nothing left to climb for this one
    again = incidents.get(conn, ADMIN, item["id"])["timeline"]
    assert [e["level"] for e in again if e["action"] == "escalate"] == [3, 2, 1]


def test_dispatch_defaults_to_the_category_department(conn):
    item = new_report(conn, NOW)
    item = incidents.act(conn, ADMIN, item["id"], "dispatch", now=NOW + timedelta(minutes=1))
    assert item["department_code"] == "150623-justice"
    with pytest.raises(incidents.Conflict) as err:
        incidents.act(conn, ADMIN, item["id"], "close", now=NOW + timedelta(minutes=2))
    assert err.value.extra["allowed"] == ["arrive", "escalate", "start"]


def test_timeline_is_append_only(conn):
    item = new_report(conn, NOW)
    with conn.cursor() as cur, pytest.raises(psycopg2.Error, match="append-only"):
        cur.execute("UPDATE incident_event SET note = 'rewritten' WHERE incident_id = %s", (item["id"],))
    conn.rollback()
    with conn.cursor() as cur, pytest.raises(psycopg2.Error, match="append-only"):
        cur.execute("DELETE FROM incident_event WHERE incident_id = %s", (item["id"],))
    conn.rollback()


def test_committed_changes_notify_listeners(quiet_dsn, conn):
    listener = connect(quiet_dsn)
    listener.autocommit = True
    with listener.cursor() as cur:
        cur.execute("LISTEN onemap_events")
    item = new_report(conn, NOW)
    incidents.act(conn, ADMIN, item["id"], "accept", now=NOW + timedelta(minutes=1))
    seen = []
    deadline = 50
    while len(seen) < 2 and deadline:
        if select.select([listener], [], [], 0.1)[0]:
            listener.poll()
            seen += [json.loads(n.payload) for n in listener.notifies]
            listener.notifies.clear()
        deadline -= 1
    listener.close()
    mine = [n for n in seen if n.get("incident_id") == item["id"]]
    assert [n["action"] for n in mine] == ["report", "accept"]
    assert mine[1]["state"] == "accepted" and mine[1]["cell_code"] == item["cell_code"]


def test_jurisdiction_and_roles(conn):
    item = new_report(conn, NOW)  # in the banner seat's town, 150623001
    other_town = Who(username="leader2", role="leader", unit_code="150623002")
    with pytest.raises(incidents.NotFound):
        incidents.get(conn, other_town, item["id"])
    assert all(i["cell_code"].startswith("150623002")
               for i in incidents.list_incidents(conn, other_town, limit=500))
    with pytest.raises(incidents.Forbidden):
        incidents.list_incidents(conn, other_town, unit="150623001")
    same_town_leader = Who(username="leader1", role="leader", unit_code="150623001")
    with pytest.raises(incidents.Forbidden):
        incidents.act(conn, same_town_leader, item["id"], "accept")
    worker = Who(username="w", role="worker", unit_code=item["cell_code"], worker_id=1)
    incidents.act(conn, ADMIN, item["id"], "accept", now=NOW)
    incidents.act(conn, worker, item["id"], "start", now=NOW)
    incidents.act(conn, worker, item["id"], "resolve", now=NOW)
    with pytest.raises(incidents.Forbidden, match="reported"):
        incidents.act(conn, worker, item["id"], "verify", now=NOW)
