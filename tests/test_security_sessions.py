"""Sessions that end: logout, password changes and disabling end every session and live stream at
once, a saved cookie included; served app, real database, the real CLI."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from data.users import SESSION_IDLE, SESSION_MAX, actor_for_session, create_user, issue_token, start_session
from db.core import connect
from tests.conftest import scalar
from tests.security_http import Client, bearer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a long enough password"


@pytest.fixture
def account(demo_dsn):
    """A fresh committed leader account (name, token)."""
    name = f"ses-{uuid.uuid4().hex[:8]}"
    conn = connect(demo_dsn)
    create_user(conn, name, PASSWORD, "leader", "150623")
    token = issue_token(conn, name, "phone")
    conn.commit()
    conn.close()
    return name, token


def _signed_in(server: str, name: str, password: str = PASSWORD) -> Client:
    client = Client(server)
    assert client.login(name, password).status == 303
    assert client.get("/api/v1/me").json()["username"] == name
    return client


def _copy(client: Client) -> Client:
    """What an attacker holding a copy of the cookie jar would send."""
    other = Client(f"http://{client.host}:{client.port}")
    other.cookies = dict(client.cookies)
    return other


def _cli(dsn: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], input=stdin, text=True,
                          capture_output=True, env=dict(os.environ, DATABASE_URL=dsn), timeout=120)


def test_a_saved_cookie_stops_working_at_logout(demo_server, account):
    browser = _signed_in(demo_server, account[0])
    saved = _copy(browser)
    assert saved.get("/api/v1/me").status == 200
    assert browser.get("/logout").status == 303
    assert saved.get("/api/v1/me").status == 401
    assert saved.get("/", headers={"Accept": "text/html"}).status == 302  # back to the login page
    assert saved.request("POST", "/_dash-update-component", body={}).status in (401, 403)


def test_logout_ends_only_that_session(demo_server, account):
    first, second = _signed_in(demo_server, account[0]), _signed_in(demo_server, account[0])
    first.get("/logout")
    assert second.get("/api/v1/me").status == 200
    assert first.get("/api/v1/me").status == 401


def test_cli_passwd_ends_every_session_and_keeps_tokens(demo_server, demo_dsn, account):
    name, token = account
    a, b = _signed_in(demo_server, name), _signed_in(demo_server, name)
    done = _cli(demo_dsn, "users", "passwd", name, "--password-stdin", stdin="another long password\n")
    assert done.returncode == 0, done.stderr
    assert "2 session(s) ended" in done.stdout + done.stderr  # the console writes to stderr
    assert a.get("/api/v1/me").status == 401 and b.get("/api/v1/me").status == 401
    assert Client(demo_server).login(name, PASSWORD).status == 401
    assert Client(demo_server).login(name, "another long password").status == 303
    assert Client(demo_server).get("/api/v1/me", headers=bearer(token)).status == 200
    short = _cli(demo_dsn, "users", "passwd", name, "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "too short" in short.stderr
    assert _cli(demo_dsn, "users", "passwd", "nobody-" + name, "--password-stdin",
                stdin="another long password\n").returncode != 0


def test_cli_disable_ends_sessions_and_tokens(demo_server, demo_dsn, account):
    name, token = account
    browser = _signed_in(demo_server, name)
    done = _cli(demo_dsn, "users", "disable", name)
    assert done.returncode == 0, done.stderr
    assert browser.get("/api/v1/me").status == 401
    assert Client(demo_server).get("/api/v1/me", headers=bearer(token)).status == 401
    assert Client(demo_server).login(name, PASSWORD).status == 403  # disabled, said only to the owner


def test_own_password_change_ends_the_other_sessions(demo_server, demo_dsn, account):
    name = account[0]
    here, elsewhere = _signed_in(demo_server, name), _signed_in(demo_server, name)
    csrf = here.cookies["_csrf_token"]
    wrong = here.request("POST", "/account/password", body={"current": "not it", "new": "a new long password"},
                         headers={"X-CSRFToken": csrf})
    assert wrong.status == 403 and wrong.json()["error"]["code"] == "wrong_password"
    assert elsewhere.get("/api/v1/me").status == 200
    no_csrf = here.request("POST", "/account/password", body={"current": PASSWORD, "new": "a new long password"})
    assert no_csrf.status == 403
    short = here.request("POST", "/account/password", body={"current": PASSWORD, "new": "short"},
                         headers={"X-CSRFToken": csrf})
    assert short.status == 400
    ok = here.request("POST", "/account/password", body={"current": PASSWORD, "new": "a new long password"},
                      headers={"X-CSRFToken": csrf})
    assert ok.status == 200 and ok.json()["sessions_ended"] == 2  # both; this browser got a new one
    assert here.get("/api/v1/me").status == 200
    assert elsewhere.get("/api/v1/me").status == 401
    audited = scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE username = %s AND action = 'password_changed'",
                     (name,))
    assert audited == 1
    assert scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE action = 'login_failed' "
                            "AND detail->>'username' = %s AND detail->>'reason' = 'wrong_password'", (name,)) == 1


def test_the_password_form_works_without_scripts(demo_server, account):
    import re

    browser = _signed_in(demo_server, account[0])
    page = browser.get("/account/password")
    assert page.status == 200 and "<script" not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    mismatch = browser.request("POST", "/account/password", form={
        "csrf_token": csrf, "current": PASSWORD, "new": "a new long password", "again": "something else"})
    assert mismatch.status == 400 and 'id="password-error"' in mismatch.text
    done = browser.request("POST", "/account/password", form={
        "csrf_token": csrf, "current": PASSWORD, "new": "a new long password", "again": "a new long password"})
    assert done.status == 200 and 'id="password-done"' in done.text
    assert browser.get("/api/v1/me").status == 200


def _open_stream(server: str, cookies: dict) -> tuple[list[bytes], threading.Event, http.client.HTTPConnection]:
    """Read /events/stream in a thread; returns the chunks read, an event set when it ends."""
    parts = urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", "/events/stream", headers={"Accept": "text/event-stream",
                                                   "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    resp = conn.getresponse()
    assert resp.status == 200
    chunks, ended = [], threading.Event()

    def read():
        try:
            while True:
                line = resp.fp.readline()
                if not line:
                    break
                chunks.append(line)
        except OSError:
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    return chunks, ended, conn


@pytest.mark.parametrize("how", ["logout", "passwd", "disable"])
def test_live_streams_end_within_seconds(demo_server, demo_dsn, account, how):
    name = account[0]
    browser = _signed_in(demo_server, name)
    chunks, ended, conn = _open_stream(demo_server, browser.cookies)
    try:
        time.sleep(1.0)
        assert not ended.is_set()
        if how == "logout":
            _copy(browser).get("/logout")
        elif how == "passwd":
            assert _cli(demo_dsn, "users", "passwd", name, "--password-stdin",
                        stdin="another long password\n").returncode == 0
        else:
            assert _cli(demo_dsn, "users", "disable", name).returncode == 0
        assert ended.wait(10), "the stream outlived its session"
        assert any(b'"ended": true' in c or b'"ended":true' in c for c in chunks)
    finally:
        conn.close()


def test_sessions_end_when_idle_or_old(demo_conn):
    name = f"ses-{uuid.uuid4().hex[:8]}"
    uid = create_user(demo_conn, name, PASSWORD, "analyst", "150623")
    from datetime import datetime, timezone

    t0 = datetime(2026, 6, 15, 8, tzinfo=timezone.utc)
    sid = start_session(demo_conn, uid, "10.1.2.3", now=t0)
    assert actor_for_session(demo_conn, sid, now=t0 + SESSION_IDLE - timedelta(minutes=1)).username == name
    # used just now: the idle clock restarted
    assert actor_for_session(demo_conn, sid, now=t0 + SESSION_IDLE + timedelta(hours=1)) is not None
    later = t0 + SESSION_IDLE * 2 + timedelta(hours=2)
    assert actor_for_session(demo_conn, sid, now=later) is None  # idle too long
    busy = start_session(demo_conn, uid, None, now=t0)
    t = t0
    while t < t0 + SESSION_MAX - timedelta(hours=1):
        t += SESSION_IDLE - timedelta(hours=1)
        actor_for_session(demo_conn, busy, now=t)
    assert actor_for_session(demo_conn, busy, now=t0 + SESSION_MAX + timedelta(minutes=1)) is None
    assert actor_for_session(demo_conn, "forged", now=t0) is None


def test_a_kiosk_session_cannot_change_the_password(demo_server, demo_dsn, account):
    conn = connect(demo_dsn)
    kiosk_token = issue_token(conn, account[0], "wall", read_only=True)
    conn.commit()
    conn.close()
    wall = Client(demo_server)
    assert wall.get(f"/kiosk?token={kiosk_token}").status == 303
    refused = wall.request("POST", "/account/password", body={"current": PASSWORD, "new": "a new long password"},
                           headers={"X-CSRFToken": wall.cookies["_csrf_token"]})
    assert refused.status == 403 and refused.json()["error"]["code"] == "read_only"
    assert Client(demo_server).login(account[0], PASSWORD).status == 303


def test_password_change_junk_is_a_4xx(demo_server, account):
    browser = _signed_in(demo_server, account[0])
    csrf = {"X-CSRFToken": browser.cookies["_csrf_token"]}
    for body in ([1, 2], "just a string", {"current": 5, "new": ["x"]}, {"current": PASSWORD, "new": "long\x00enough pw"}):
        reply = browser.request("POST", "/account/password", body=json.dumps(body),
                                headers={**csrf, "Content-Type": "application/json"})
        assert 400 <= reply.status < 500, (body, reply.status)
    assert browser.get("/api/v1/me").status == 200
