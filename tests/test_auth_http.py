"""The login gate, sessions, CSRF and bearer tokens over HTTP, on the real app and database."""
from __future__ import annotations

import os
import re
import stat
import uuid

import psycopg2
import pytest
from flask import jsonify, request

from app import Settings, create_app
from data.users import create_user, disable_user, issue_token
from web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, current_actor, load_secret_key, require_actor

PASSWORD = "a long enough password"
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def server(demo_dsn):
    """The production app, plus two probe routes registered before the first request."""
    app = create_app(Settings(dsn=demo_dsn))

    @app.route("/probe/whoami", methods=["GET", "POST"])
    @require_actor(roles=["admin", "leader", "dispatcher"])
    def whoami():
        actor = current_actor()
        return jsonify(username=actor.username, unit=actor.unit_code,
                       covers=actor.covers(request.args.get("code", "")))

    @app.route("/probe/write", methods=["POST"])
    def write():  # behind the gate only: CSRF is the gate's job
        return jsonify(ok=True)

    app.testing = True
    return app


@pytest.fixture(scope="module")
def account(demo_dsn):
    """Make committed accounts with unique names: the app reads them on its own connections."""
    def make(role="leader", unit="150623"):
        name = f"http-{uuid.uuid4().hex[:10]}"
        conn = psycopg2.connect(demo_dsn)
        try:
            create_user(conn, name, PASSWORD, role, unit)
            conn.commit()
        finally:
            conn.close()
        return name
    return make


def _committed(dsn, fn, *args, **kwargs):
    conn = psycopg2.connect(dsn)
    try:
        out = fn(conn, *args, **kwargs)
        conn.commit()
        return out
    finally:
        conn.close()


def _form_token(client, query="") -> str:
    page = client.get("/login" + query)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _login(client, username, password=PASSWORD, next_path="/"):
    token = _form_token(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": next_path})


def _set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


# -- the gate -------------------------------------------------------------------------------

def test_pages_redirect_to_login_and_scripts_get_401(server):
    client = server.test_client()
    page = client.get("/", headers=HTML)
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=%2F"
    for method, path in [("POST", "/_dash-update-component"), ("GET", "/_dash-layout"),
                         ("GET", "/_dash-dependencies"), ("GET", "/layers/cells.geojson")]:
        response = client.open(path, method=method, headers=HTML, json={})
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_public_routes_stay_open(server):
    client = server.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/assets/onemap.css").status_code == 200
    login = client.get("/login")
    assert login.status_code == 200 and "登录" in login.get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


# -- login ----------------------------------------------------------------------------------

def test_login_sets_httponly_strict_cookies_and_opens_the_dashboard(server, account):
    client = server.test_client()
    done = _login(client, account(), next_path="/?x=1")
    assert done.status_code == 303 and done.headers["Location"] == "/?x=1"
    cookies = _set_cookies(done)
    session_cookie, csrf_cookie = cookies[SESSION_COOKIE], cookies[CSRF_COOKIE]
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie
    assert "HttpOnly" not in csrf_cookie and "SameSite=Strict" in csrf_cookie  # Dash reads it
    assert "Secure" not in session_cookie  # plain HTTP on localhost
    assert client.get("/", headers=HTML).status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/login", headers=HTML).status_code == 302  # already logged in


def test_cookies_are_secure_on_other_hosts(server, account):
    client = server.test_client()
    page = client.get("/login", base_url="https://onemap.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = client.post("/login", base_url="https://onemap.example",
                       data={"username": account(), "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303
    assert all("Secure" in c for c in _set_cookies(done).values())


def test_login_form_needs_its_csrf_field(server, account):
    client = server.test_client()
    client.get("/login")
    refused = client.post("/login", data={"username": account(), "password": PASSWORD})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.get("/", headers=HTML).status_code == 302


def test_wrong_password_then_lockout_message(server, account):
    name = account()
    client = server.test_client()
    for _ in range(4):
        wrong = _login(client, name, "wrong password")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    locked = _login(client, name, "wrong password")
    assert locked.status_code == 429 and "已锁定" in locked.get_data(as_text=True)
    still = _login(client, name)  # right password, still locked
    assert still.status_code == 429
    token = _form_token(client, "?lang=en")
    english = client.post("/login", data={"username": name, "password": PASSWORD,
                                          "csrf_token": token, "lang": "en"})
    assert "Locked after 5 failed logins" in english.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "/ok\r\nSet-Cookie: x=1"])
def test_next_cannot_leave_the_site(server, account, target):
    client = server.test_client()
    done = _login(client, account(), next_path=target)
    assert done.headers["Location"] == "/"


def test_logout_and_disabling_end_the_session(server, account, demo_dsn):
    client = server.test_client()
    _login(client, account())
    assert client.get("/logout").status_code == 303
    assert client.get("/", headers=HTML).status_code == 302
    name = account()
    _login(client, name)
    assert client.get("/", headers=HTML).status_code == 200
    _committed(demo_dsn, disable_user, name)
    assert client.get("/", headers=HTML).status_code == 302


# -- CSRF -----------------------------------------------------------------------------------

def test_cookie_posts_need_the_csrf_header(server, account):
    client = server.test_client()
    _login(client, account())
    refused = client.post("/probe/write", json={})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert client.post("/_dash-update-component", json={}).status_code == 403
    wrong = client.post("/probe/write", json={}, headers={CSRF_HEADER: "not-the-token"})
    assert wrong.status_code == 403
    token = client.get_cookie(CSRF_COOKIE).value
    assert client.post("/probe/write", json={}, headers={CSRF_HEADER: token}).status_code == 200
    dash = client.post("/_dash-update-component", json=_language_callback(client),
                       headers={CSRF_HEADER: token})
    assert dash.status_code == 200 and "?lang=en" in dash.get_data(as_text=True)


def _language_callback(client) -> dict:
    """A real Dash callback request: the one the language switch fires, switching to English."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if d["inputs"] == [{"id": "lang", "property": "value"}] and d["output"] == "url.search")
    parts = dep["output"].strip(".").split("...")
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    return {"output": dep["output"], "outputs": outputs if len(parts) > 1 else outputs[0],
            "inputs": [{"id": "lang", "property": "value", "value": "en"}],
            "changedPropIds": ["lang.value"], "state": []}


# -- bearer tokens and require_actor --------------------------------------------------------

def test_bearer_token_on_a_protected_route(server, account, demo_dsn):
    client = server.test_client()
    token = _committed(demo_dsn, issue_token, account("dispatcher"), "phone")
    auth = {"Authorization": f"Bearer {token}"}
    ok = client.get("/probe/whoami?code=150623002001", headers=auth)
    assert ok.status_code == 200 and ok.get_json()["covers"] is True
    assert client.post("/probe/write", json={}, headers=auth).status_code == 200  # no CSRF for tokens
    bad = client.get("/probe/whoami", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "Bearer" in bad.headers["WWW-Authenticate"]
    assert client.get("/probe/whoami", headers={"Accept": "application/json"}).status_code == 401


def test_roles_and_read_only_tokens(server, account, demo_dsn):
    client = server.test_client()
    analyst = _committed(demo_dsn, issue_token, account("analyst"), "laptop")
    denied = client.get("/probe/whoami", headers={"Authorization": f"Bearer {analyst}"})
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    kiosk = _committed(demo_dsn, issue_token, account("leader"), "wall", read_only=True)
    auth = {"Authorization": f"Bearer {kiosk}"}
    assert client.get("/probe/whoami", headers=auth).status_code == 200
    assert client.post("/probe/whoami", headers=auth).status_code == 403


def test_a_town_leader_does_not_cover_another_town(server, account):
    client = server.test_client()
    _login(client, account("leader", "150623002"))
    own = client.get("/probe/whoami?code=150623002003").get_json()
    other = client.get("/probe/whoami?code=150623001003").get_json()
    assert own["unit"] == "150623002" and own["covers"] and not other["covers"]


def test_demo_town_leader_logs_in(server):
    client = server.test_client()
    assert _login(client, "demo-leader-shanghaimiao", "onemap-leader").status_code == 303
    assert client.get("/probe/whoami?code=150623003").get_json()["covers"] is False


# -- the signing key ------------------------------------------------------------------------

def test_secret_key_file_is_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv("ONEMAP_SECRET_KEY", raising=False)
    path = tmp_path / "var" / "secret_key"
    first = load_secret_key(path)
    assert len(first) >= 48 and load_secret_key(path) == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    monkeypatch.setenv("ONEMAP_SECRET_KEY", "from-the-environment")
    assert load_secret_key(path) == "from-the-environment"
