"""No script from data: markup planted in every data-bearing text field never runs, in a real
headless Chromium against the served app, as leader, admin, analyst and a wall kiosk.

Every name a page can draw (region, grid units, facilities, departments, categories, grid
workers, a user's display name) and an incident's description and a timeline note get a payload
that would call ``__xss()`` if any renderer turned it into markup. The pages must show the
payload as text, run none of it (``__xss`` never called, no dialog) and cause no Content-Security-
Policy violation (a violation would mean markup got through and only the CSP stopped it), while
the map, the labels and the KPIs still render.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from waitress.server import create_server

from app import Settings, create_app
from data.users import issue_token
from db.core import connect
from tests.conftest import DEMO_NOW, _drop, _fresh_database, chromium
from tests.security_http import Client, bearer

PAYLOAD = "\"'><img src=x onerror=__xss(1)><svg onload=__xss(2)><script>__xss(3)</script>"
MARK = "<img src=x onerror=__xss(1)>"  # what the page must show as text
INIT = """
window.__xss_calls = [];
window.__xss = function (n) { window.__xss_calls.push(n); };
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
    window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});
"""
PLANT = [
    "UPDATE region SET name = name || %(p)s, name_en = coalesce(name_en, '') || %(p)s",
    "UPDATE grid_unit SET name = name || %(p)s, name_en = coalesce(name_en, '') || %(p)s WHERE level <= 3",
    "UPDATE grid_unit SET name = name || %(p)s WHERE level = 4",
    "UPDATE facility SET name = name || %(p)s",
    "UPDATE department SET name = name || %(p)s, name_en = coalesce(name_en, '') || %(p)s",
    "UPDATE incident_category SET name = name || %(p)s, name_en = name_en || %(p)s",
    "UPDATE grid_worker SET name = name || %(p)s",
    "UPDATE app_user SET display_name = display_name || %(p)s",
]


@pytest.fixture(scope="module")
def xss_dsn(server_dsn):
    """A demo county of its own whose every name carries the payload."""
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "xss")
    load_demo(dsn, seed=1, incidents=300, now=DEMO_NOW)
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        for statement in PLANT:
            cur.execute(statement, {"p": PAYLOAD})
    conn.commit()
    conn.close()
    yield dsn
    _drop(admin, name)


@pytest.fixture(scope="module")
def server(xss_dsn):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(dsn=xss_dsn))
    srv = create_server(app, host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    broker = app.extensions["onemap_broker"]
    deadline = time.monotonic() + 10
    while broker.open_streams() and time.monotonic() < deadline:
        time.sleep(0.2)
    srv.close()


@pytest.fixture(scope="module")
def planted(server, xss_dsn):
    """An incident reported through the API with the payload as description, and a timeline note."""
    conn = connect(xss_dsn)
    tokens = {u: issue_token(conn, u, "xss") for u in ("demo-dispatcher", "demo-leader")}
    tokens["kiosk"] = issue_token(conn, "demo-leader", "xss-wall", read_only=True)
    conn.commit()
    conn.close()
    body = {"id": str(uuid.uuid4()), "category": "public_order", "description": PAYLOAD,
            "lon": 107.4751, "lat": 38.1798,
            "observed_at": (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()}
    client = Client(server)
    made = client.request("POST", "/api/v1/incidents", body=body, headers=bearer(tokens["demo-dispatcher"]))
    assert made.status == 201, made.text
    incident = made.json()["id"]
    acted = client.request("POST", f"/api/v1/incidents/{incident}/actions/accept", body={"note": PAYLOAD},
                           headers=bearer(tokens["demo-dispatcher"]))
    assert acted.status == 200, acted.text
    return {"incident": incident, "tokens": tokens}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def _page(browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.add_init_script(INIT)
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def _login(browser, server, username, password, path="/"):
    page = _page(browser)
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/", timeout=15_000)
    if path != "/":
        page.goto(server + path)
    return page


def _clean(page, where: str) -> None:
    """Nothing ran and nothing was blocked (blocked would mean markup reached the DOM)."""
    page.wait_for_timeout(1500)  # late renders (tooltips, charts) get their chance to misbehave
    assert page.evaluate("window.__xss_calls") == [], f"{where}: planted script ran"
    assert page.dialogs == [], where
    assert page.evaluate("window.__csp") == [], f"{where}: CSP violations"
    assert page.evaluate("document.querySelectorAll('img[src=x], svg[onload]').length") == 0, where


def _kpis_render(page, prefix: str) -> None:
    try:
        page.wait_for_function(f"() => (e => e && e.innerText !== '–')(document.querySelector('#{prefix}-kpi-open'))",
                               timeout=90_000)
    except Exception as exc:
        raise AssertionError(f"KPIs did not render: {page.errors} {page.evaluate('window.__csp')}") from exc


def test_leaders_page_shows_markup_as_text(server, browser, planted):
    page = _login(browser, server, "demo-leader", "onemap-leader")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 50", timeout=90_000)
    _kpis_render(page, "m")
    page.wait_for_function("() => document.querySelectorAll('.onemap-label').length >= 4", timeout=90_000)
    labels = page.eval_on_selector_all(".onemap-label", "els => els.map(e => e.textContent)")
    assert labels and all(MARK in text for text in labels)  # the names, markup and all, as text
    page.wait_for_selector("#m-cats .ytick text", timeout=90_000)  # the category chart drew its names
    badge = page.inner_text("#user-badge")
    assert MARK in badge
    box = page.locator("#m-map").bounding_box()  # hover a cell: its tooltip too is text
    for fx, fy in ((0.45, 0.55), (0.5, 0.5), (0.3, 0.4)):
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(300)
    _clean(page, "/ as leader")
    page.close()


def test_incident_panel_shows_markup_as_text(server, browser, planted):
    page = _login(browser, server, "demo-admin", "onemap-admin")
    _kpis_render(page, "m")
    page.evaluate("id => window.dash_clientside.set_props('m-layer-incidents', "
                  "{clickData: {type: 'Feature', properties: {id: id}}})", planted["incident"])
    page.wait_for_selector("#m-detail h3", timeout=90_000)
    panel = page.inner_text("#m-detail")
    assert MARK in panel  # the category name; the description and the note are text too
    assert panel.count("<script>") >= 2
    _clean(page, "incident panel as admin")
    page.close()


def test_wall_as_kiosk_shows_markup_as_text(server, browser, planted):
    page = _page(browser)
    page.goto(f"{server}/kiosk?token={planted['tokens']['kiosk']}")
    page.wait_for_url(server + "/wall", timeout=15_000)
    _kpis_render(page, "w")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 50", timeout=90_000)
    page.wait_for_function("() => (e => e && e.innerText.length > 0)(document.querySelector('#w-ticker'))", timeout=90_000)
    assert MARK in page.inner_text("#w-ticker") or MARK in page.inner_text("#w-focus")
    _clean(page, "/wall as kiosk")
    page.close()


def test_analyst_page_and_login_forms(server, browser, planted):
    page = _login(browser, server, "demo-analyst", "onemap-analyst", "/analyst")
    page.wait_for_selector("#analyst-count", timeout=90_000)
    _clean(page, "/analyst")
    page.goto(server + "/account/password")
    _clean(page, "/account/password")
    page.close()
    page = _page(browser)  # a username full of markup is echoed back into the login form, escaped
    page.goto(server + "/login")
    page.fill("#username", PAYLOAD)
    page.fill("#password", "whatever it is")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error")
    assert page.input_value("#username") == PAYLOAD
    _clean(page, "/login")
    page.close()


def test_api_answers_are_json_never_html(server, planted):
    """What the API returns with the payload inside is JSON with nosniff, never a page."""
    client = Client(server)
    token = planted["tokens"]["demo-dispatcher"]
    reply = client.get(f"/api/v1/incidents/{planted['incident']}", headers=bearer(token))
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert PAYLOAD in json.dumps(reply.json(), ensure_ascii=False)


def test_field_app_shows_markup_as_text(server, browser, planted, xss_dsn):
    """The phone app draws cell, facility and category names from data: as text, on a phone."""
    with psycopg2.connect(xss_dsn) as conn, conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(g.geom) AS p FROM app_user u
                       JOIN grid_unit g ON g.code = u.unit_code WHERE u.username = 'demo-worker') s""")
        lon, lat = cur.fetchone()
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                  geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"])
    page = context.new_page()
    page.add_init_script(INIT)
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/field/")
    page.fill("#username", "demo-worker")
    page.fill("#password", "onemap-worker")
    page.click("#login-form button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#r-category option').length > 2", timeout=60_000)
    options = page.eval_on_selector_all("#r-category option", "els => els.map(e => e.textContent)")
    assert any(MARK in text for text in options)  # category names, markup and all, as text
    page.click("#tabs button[data-view=v-map]")
    page.wait_for_function("() => document.querySelectorAll('#v-map path.leaflet-interactive').length > 3",
                           timeout=60_000)
    shapes = page.locator("#v-map .leaflet-interactive")
    for i in range(min(shapes.count(), 8)):  # hover cells and facilities: their tooltips appear
        shapes.nth(i).hover(force=True)
        page.wait_for_timeout(150)
    tips = page.eval_on_selector_all(".leaflet-tooltip", "els => els.map(e => e.textContent)")
    assert tips and any(MARK in text for text in tips), tips  # names shown as text
    _clean(page, "/field/ as worker")
    context.close()
