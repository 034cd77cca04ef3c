"""Logging: configured once, a request id on every line of a request (X-Request-ID in and out),
and the escalation runner's lines reach the log."""
from __future__ import annotations

import io
import logging
import re
import time

import psycopg2
import pytest

from app import Settings, create_app
from web.logging import HEADER, configure_logging

from conftest import DEMO_NOW, _drop, _fresh_database


@pytest.fixture
def log_lines():
    """The root logger writing to a buffer in OneMap's format (pytest's own handlers put back after)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buf = io.StringIO()
    configure_logging("DEBUG", stream=buf)
    yield buf
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


@pytest.fixture(scope="module")
def client(quiet_dsn):
    app = create_app(Settings(dsn=quiet_dsn))
    app.testing = True
    return app.test_client()


def test_request_id_is_echoed_or_made(client):
    assert client.get("/login", headers={HEADER: "phone-42.req_7"}).headers[HEADER] == "phone-42.req_7"
    made = client.get("/login").headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/login").headers[HEADER] != made  # one per request
    for bad in ("two words", "x" * 129, "a\tb", "<script>", "ü"):  # never copied into the log
        got = client.get("/login", headers={HEADER: bad}).headers[HEADER]
        assert got != bad and re.fullmatch(r"[0-9a-f]{32}", got)


def test_every_line_of_a_request_carries_its_id(client, log_lines):
    r = client.post("/login", data={"username": "nobody-here", "password": "wrong"},
                    headers={HEADER: "trace-login-1"})
    assert r.status_code in (400, 401, 403)
    lines = [ln for ln in log_lines.getvalue().splitlines() if ln.strip()]
    ours = [ln for ln in lines if "[trace-login-1]" in ln]
    assert any("onemap.http" in ln and "POST /login" in ln for ln in ours), lines
    assert all(re.search(r"\[(trace-login-1|-)\]", ln) for ln in lines), lines  # no line without the field


def test_escalation_runner_lines_reach_the_log(server_dsn, log_lines):
    """A real runner over a county with overdue incidents: its 'escalated' line is written, with '-'
    for the request id (it runs outside any request)."""
    from api.app import start_escalator
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "logging")
    try:
        load_demo(dsn, seed=3, incidents=5, now=DEMO_NOW)
        conn = psycopg2.connect(dsn)
        with conn, conn.cursor() as cur:  # one open case at grid level whose deadline has just passed
            cur.execute("UPDATE incident i SET state = 'accepted', due_at = now() - interval '1 hour' "
                        "WHERE id = (SELECT id FROM incident j WHERE handling_level = 4 AND NOT EXISTS "
                        "(SELECT 1 FROM incident_event e WHERE e.incident_id = j.id AND e.action = 'escalate') "
                        "ORDER BY id LIMIT 1) RETURNING id")
            assert cur.fetchone(), "the demo made no incident still at grid level"
        conn.close()
        stop = start_escalator(dsn, 0.05)
        try:
            for _ in range(600):  # the first round comes after about 0.05 s; allow a slow machine
                if "escalated" in log_lines.getvalue():
                    break
                time.sleep(0.1)
        finally:
            stop.set()
        lines = log_lines.getvalue().splitlines()
        line = next((ln for ln in lines if "escalated" in ln), f"no 'escalated' line in {lines}")
        assert re.search(r" INFO onemap\.escalation \[-\] escalated \d+ incident level", line), line
    finally:
        time.sleep(0.2)  # let a round in flight finish before the database goes
        _drop(admin, name)
