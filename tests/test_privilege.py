"""Least privilege (0012_app_role.sql): the running server is the role onemap_app, which cannot
rewrite history or switch its guards off — proven by connecting AS that role — and the served app
still works as it."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.request import Request, urlopen

import psycopg2
import pytest

from data.users import issue_token
from db.core import APP_ROLE, app_dsn, connect

from conftest import scalar

SEAT = (107.4751, 38.1798)


@pytest.fixture
def app_conn(demo_dsn):
    """A connection as the running server makes it (db.core.app_dsn), rolled back afterwards."""
    conn = connect(app_dsn(demo_dsn))
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture(scope="module")
def history(demo_dsn):
    """Ids of one incident, one of its timeline events and one audit row, with a digest of each."""
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO audit_log (region_code, username, action, detail) "
                    "VALUES ('150623', 'privilege-test', 'test', '{\"n\": 1}') RETURNING id")
        audit_id = cur.fetchone()[0]
        cur.execute("SELECT incident_id, id FROM incident_event ORDER BY id LIMIT 1")
        incident_id, event_id = cur.fetchone()
    conn.commit()
    conn.close()
    return {"audit": audit_id, "event": event_id, "incident": str(incident_id)}


def _digest(dsn: str, ids: dict) -> tuple:
    return (scalar(dsn, "SELECT md5(a::text) FROM audit_log a WHERE id = %s", (ids["audit"],)),
            scalar(dsn, "SELECT md5(e::text) FROM incident_event e WHERE id = %s", (ids["event"],)),
            scalar(dsn, "SELECT md5(i::text) FROM incident i WHERE id = %s", (ids["incident"],)),
            scalar(dsn, "SELECT count(*) FROM incident_event WHERE incident_id = %s", (ids["incident"],)))


def test_the_server_logs_in_as_its_own_role(app_conn):
    with app_conn.cursor() as cur:
        cur.execute("SELECT current_user, session_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
                    "r.rolbypassrls, pg_has_role(session_user, 'postgres', 'MEMBER') "
                    "FROM pg_roles r WHERE r.rolname = current_user")
        assert cur.fetchone() == (APP_ROLE, APP_ROLE, False, False, False, False, False)


REFUSED = [
    ("UPDATE audit_log SET action = 'rewritten' WHERE id = %(audit)s", "permission denied"),
    ("DELETE FROM audit_log WHERE id = %(audit)s", "permission denied"),
    ("TRUNCATE audit_log", "permission denied"),
    ("UPDATE incident_event SET note = 'rewritten' WHERE id = %(event)s", "permission denied"),
    ("DELETE FROM incident_event WHERE id = %(event)s", "permission denied"),
    ("TRUNCATE incident_event", "permission denied"),
    ("TRUNCATE incident_event, incident CASCADE", "permission denied"),
    ("DELETE FROM incident WHERE id = %(incident)s", "permission denied"),
    ("ALTER TABLE incident_event DISABLE TRIGGER incident_event_append_only", "must be owner"),
    ("ALTER TABLE audit_log DISABLE TRIGGER ALL", "must be owner"),
    ("SET session_replication_role = replica", "permission denied to set parameter"),
    ("SET ROLE postgres", "permission denied"),
    ("UPDATE incident_rollup_folded SET n = n + 1", "permission denied"),
    ("INSERT INTO incident_rollup_delta SELECT * FROM incident_rollup_delta LIMIT 0", "permission denied"),
    ("UPDATE incident_transition SET to_state = 'closed'", "permission denied"),
    ("SELECT incident_rollup_unit_merge('SELECT * FROM incident_rollup_folded')", "permission denied for function"),
    ("DELETE FROM incident_rollup_unit", "permission denied"),
    ("CREATE TABLE sneaky (x int)", "permission denied"),
]


@pytest.mark.parametrize("statement, message", REFUSED, ids=[s.split(" WHERE")[0] for s, _ in REFUSED])
def test_the_app_role_is_refused(app_conn, demo_dsn, history, statement, message):
    before = _digest(demo_dsn, history)
    with app_conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege, match=message):
        cur.execute(statement, history)
    app_conn.rollback()
    assert _digest(demo_dsn, history) == before


def test_the_app_role_may_append_history(app_conn, history):
    """What it may do: add to the record and the timeline, and change an incident's state."""
    with app_conn.cursor() as cur:
        cur.execute("INSERT INTO audit_log (region_code, action) VALUES ('150623', 'privilege-test') RETURNING id")
        assert cur.fetchone()[0] > history["audit"]
        cur.execute("INSERT INTO incident_event (incident_id, region_code, at, action, actor) "
                    "SELECT id, region_code, now(), 'note', 'test' FROM incident WHERE id = %s", (history["incident"],))
        assert cur.rowcount == 1
        cur.execute("UPDATE incident SET description = description WHERE id = %s", (history["incident"],))
        assert cur.rowcount == 1
    app_conn.rollback()


def test_tables_of_later_migrations_are_usable_by_default(empty_dsn):
    """Default privileges: a table a later migration creates (as the owner) is open to the app
    for SELECT, INSERT, UPDATE, DELETE — never TRUNCATE."""
    name = f"later_{uuid.uuid4().hex[:8]}"
    owner = connect(empty_dsn)
    with owner.cursor() as cur:
        cur.execute(f"CREATE TABLE {name} (id bigserial PRIMARY KEY, x int)")  # name made here
    owner.commit()
    try:
        app = connect(app_dsn(empty_dsn))
        with app.cursor() as cur:
            cur.execute(f"INSERT INTO {name} (x) VALUES (1)")
            cur.execute(f"UPDATE {name} SET x = 2")
            cur.execute(f"DELETE FROM {name}")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"TRUNCATE {name}")
        app.close()
    finally:
        with owner.cursor() as cur:
            cur.execute(f"DROP TABLE {name}")
        owner.commit()
        owner.close()


def test_the_served_app_works_as_the_app_role(demo_server, demo_dsn):
    """A report through the served app succeeds, and the server's connections are onemap_app's."""
    conn = connect(demo_dsn)
    token = issue_token(conn, "demo-worker", f"privilege-{uuid.uuid4().hex[:6]}")
    conn.commit()
    conn.close()
    # owner connections already open belong to this test process (tests that call data functions on
    # demo_dsn directly share its pools); the server must add none
    before = set(scalar(demo_dsn, "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND application_name LIKE 'onemap-web%%' "
                                  "AND usename <> %s", (APP_ROLE,)))
    rid = str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    body = {"id": rid, "category": "public_order", "description": "least privilege", "lon": SEAT[0],
            "lat": SEAT[1], "observed_at": (now - timedelta(minutes=1)).isoformat()}
    req = Request(f"{demo_server}/api/v1/incidents", data=json.dumps(body).encode(), method="POST",
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urlopen(req) as r:
        assert r.status == 201
        assert json.loads(r.read())["state"] == "new"
    assert scalar(demo_dsn, "SELECT count(*) FROM incident_event WHERE incident_id = %s AND action = 'report'",
                  (rid,)) == 1
    users = scalar(demo_dsn, "SELECT array_agg(DISTINCT usename::text) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND application_name LIKE 'onemap-web%%' "
                             "AND NOT pid = ANY(%s)", (list(before),))
    assert users == [APP_ROLE]
    # the live feed's listener too: open a page's stream and look at who listens
    stream = urlopen(Request(f"{demo_server}/events/stream", headers={"Authorization": f"Bearer {token}"}),
                     timeout=30)
    try:
        assert stream.status == 200 and stream.readline()  # the stream is open (its first line came)
        deadline = time.monotonic() + 15  # the listener thread connects beside the stream, not before it
        while True:
            listeners = scalar(demo_dsn, "SELECT array_agg(DISTINCT usename::text) FROM pg_stat_activity "
                                         "WHERE datname = current_database() AND application_name = 'onemap-listen'")
            if listeners is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        stream.close()
    assert listeners == [APP_ROLE]


def test_without_a_login_of_its_own_the_server_switches_role_at_connect(demo_dsn):
    """DATABASE_URL with a password (not the local cluster) and no ONEMAP_APP_DATABASE_URL: the
    server logs in as the owner and is onemap_app from the first statement — refused the same
    writes — but such a session could SET ROLE NONE, which is why the README asks for a login."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(demo_dsn)
    with_password = urlunsplit(parts._replace(netloc=f"{parts.username}:unused@{parts.hostname}:{parts.port}"))
    conn = connect(app_dsn(with_password))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, session_user")
            assert cur.fetchone() == (APP_ROLE, parts.username)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("DELETE FROM incident WHERE false")
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SET ROLE NONE; SELECT current_user")  # (RESET ROLE keeps the connect-time role)
            assert cur.fetchone() == (parts.username,)  # the weakness, stated
    finally:
        conn.rollback()
        conn.close()


def test_an_app_url_for_another_database_is_refused():
    from db.core import DatabaseError

    with pytest.raises(DatabaseError, match="same database"):
        app_dsn("postgresql://owner@db.example/onemap_test_x", "postgresql://onemap_app:pw@db.example/onemap")
    assert app_dsn("postgresql://owner@db.example/onemap", "postgresql://onemap_app:pw@db.example/onemap") \
        == "postgresql://onemap_app:pw@db.example/onemap"
