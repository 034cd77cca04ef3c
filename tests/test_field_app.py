"""The field app (/field/) in a real headless Chromium as a phone (390×844, touch, geolocation,
offline toggled), against the real server and database; and its API (field tokens, visits,
allowed actions) over HTTP."""
from __future__ import annotations

import json
import socket
import threading
import uuid
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from waitress.server import create_server

from app import Settings, create_app
from data.users import create_user, disable_user, issue_token, set_password
from db.core import connect

from conftest import chromium
from served import get, post_json

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(quiet_dsn):
    """The app on a free local port, in a background thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=quiet_dsn)), host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    srv.close()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def _one(dsn, query, params=()):
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def places(quiet_dsn):
    """A point inside the demo worker's cell, the nearest road vertex to it (where department staff
    stand), and a category the demo department handles."""
    lon, lat = _one(quiet_dsn, """
        SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(g.geom) AS p FROM app_user u
        JOIN grid_unit g ON g.code = u.unit_code WHERE u.username = 'demo-worker') s""")
    vlon, vlat = _one(quiet_dsn, """
        SELECT ST_X(geom), ST_Y(geom) FROM road_vertex
        ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) OFFSET 3 LIMIT 1""", (lon, lat))
    (category,) = _one(quiet_dsn, """
        SELECT c.code FROM incident_category c JOIN department d ON d.kind = c.department_kind
        JOIN app_user u ON u.department_code = d.code WHERE u.username = 'demo-department'
        ORDER BY c.sort_order LIMIT 1""")
    return {"worker": (lon, lat), "department": (vlon, vlat), "category": category}


def _jpeg(path: Path, colour=(200, 80, 40)) -> Path:
    Image.new("RGB", (2400, 1800), colour).save(path, "JPEG", quality=90)
    return path


def _phone(browser, lon, lat):
    """A phone: 390×844, touch, geolocation granted at (lon, lat); every host it contacts recorded."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                              geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
                              permissions=["geolocation"], locale="zh-CN", service_workers="allow")
    ctx.hosts, ctx.errors = set(), []
    # blob: and data: URLs (photo previews, Leaflet's icons) stay in the page; every other request is listed
    ctx.on("request", lambda r: urlsplit(r.url).scheme in ("blob", "data") or ctx.hosts.add(urlsplit(r.url).netloc))
    return ctx


def _page(ctx):
    page = ctx.new_page()
    page.on("pageerror", lambda e: ctx.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and ctx.errors.append(m.text))
    return page


def _sign_in(page, server, username, password):
    page.goto(server + "/field/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#tabs:not([hidden])", timeout=15_000)


def shot(page, name, bottom=False):
    """A phone-sized screenshot; ``bottom``: scrolled to the end (the outbox), once the toast is gone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if bottom:
        page.wait_for_selector("#toast", state="hidden", timeout=10_000)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.screenshot(path=str(SHOTS / f"field-{name}.png"))


def test_worker_reports_offline_then_department_resolves(server, browser, places, quiet_dsn, tmp_path):
    lon, lat = places["worker"]
    ctx = _phone(browser, lon, lat)
    page = _page(ctx)
    page.goto(server + "/field/")
    page.wait_for_selector("#login-form")
    shot(page, "login")
    _sign_in(page, server, "demo-worker", "onemap-worker")
    # the service worker registers and controls the page (clients.claim on activate)
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
    except Exception as exc:  # say what the worker's registration was doing (a rare timeout in full runs)
        state = page.evaluate("""async () => { const r = await navigator.serviceWorker.getRegistration('/field/');
            return r ? {installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
                        active: r.active && r.active.state} : 'no registration'; }""")
        raise AssertionError(f"the service worker never controlled the page: {state}; errors {ctx.errors}") from exc
    page.wait_for_function("() => document.querySelectorAll('#r-category option').length > 3", timeout=15_000)
    page.wait_for_function("() => document.querySelector('#r-acc').textContent.includes('12')", timeout=15_000)
    page.wait_for_selector("#r-map path.leaflet-interactive", timeout=15_000)  # the worker's cell is drawn
    shot(page, "report")

    ctx.set_offline(True)
    page.select_option("#r-category", places["category"])
    assert page.locator("#r-dept").inner_text()  # the department it goes to is named
    page.fill("#r-desc", "井盖缺失 <b>注意</b>")
    page.set_input_files("#r-photo", str(_jpeg(tmp_path / "photo.jpg")))
    page.wait_for_selector("#r-previews img", timeout=10_000)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#outbox li[data-status=pending]", timeout=10_000)
    rid = page.locator("#outbox li[data-status=pending]").first.get_attribute("data-id")
    assert uuid.UUID(rid).version == 4
    assert "<b>" in page.locator("#outbox").inner_text()  # text from the user stays text
    shot(page, "pending", bottom=True)

    # close the page and open the app again while still offline: the shell comes from the service
    # worker's cache, and the report is still pending (IndexedDB)
    page.close()
    page = _page(ctx)
    page.goto(server + "/field/")
    page.wait_for_selector(f"#outbox li[data-id='{rid}'][data-status=pending]", timeout=15_000)
    assert page.locator("#net").inner_text() == "离线"
    shot(page, "offline-reopened")

    ctx.set_offline(False)
    page.wait_for_selector(f"#outbox li[data-id='{rid}'][data-status=sent]", timeout=30_000)
    assert _one(quiet_dsn, "SELECT count(*) FROM incident WHERE id = %s", (rid,))[0] == 1
    assert _one(quiet_dsn, "SELECT count(*) FROM incident_photo WHERE incident_id = %s", (rid,))[0] == 1
    assert _one(quiet_dsn, "SELECT description FROM incident WHERE id = %s", (rid,))[0] == "井盖缺失 <b>注意</b>"
    shot(page, "sent", bottom=True)

    page.click("#tabs button[data-view=v-work]")
    page.wait_for_selector(f"#work-list button[data-id='{rid}']", timeout=15_000)
    shot(page, "work-worker")
    page.click("#tabs button[data-view=v-map]")
    page.wait_for_function("() => document.querySelectorAll('#m-map path.leaflet-interactive').length >= 2", timeout=15_000)
    page.wait_for_function("() => !document.querySelector('#m-map .leaflet-zoom-anim')", timeout=10_000)
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    shot(page, "map")
    page.click("#tabs button[data-view=v-patrol]")
    fixes_before = _one(quiet_dsn, "SELECT count(*) FROM worker_position p JOIN app_user u ON u.worker_id = p.worker_id "
                                   "WHERE u.username = 'demo-worker'")[0]
    page.click("#p-toggle")  # start a patrol: the phone's fixes are batched into the outbox
    page.wait_for_function("() => /[1-9]/.test(document.querySelector('#p-state').textContent)", timeout=15_000)
    page.click("#p-toggle")  # stop: the last batch is queued and sent
    page.wait_for_function("() => [...document.querySelectorAll('#outbox li')].length >= 2 && "
                           "![...document.querySelectorAll('#outbox li')].some(li => li.dataset.status === 'pending')",
                           timeout=15_000)
    fixes_after = _one(quiet_dsn, "SELECT count(*) FROM worker_position p JOIN app_user u ON u.worker_id = p.worker_id "
                                  "WHERE u.username = 'demo-worker'")[0]
    assert fixes_after > fixes_before
    page.fill("#v-place", "张家（3号院）")
    page.click("#visit-form button[type=submit]")
    page.wait_for_function("() => [...document.querySelectorAll('#visit-list li')].some(li => li.textContent.includes('3号院'))",
                           timeout=15_000)
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    shot(page, "patrol")
    page.click("#lang")  # English by the switch
    assert page.locator("#tabs button[data-view=v-report]").inner_text().endswith("Report")
    shot(page, "patrol-en")
    page.click("#lang")
    # a reload while offline still shows the app (and the signed-in user's last lists)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#tabs:not([hidden])", timeout=15_000)
    ctx.set_offline(False)
    assert ctx.hosts == {urlsplit(server).netloc}, ctx.hosts  # nothing from the internet
    assert not [e for e in ctx.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e], ctx.errors
    ctx.close()

    # a dispatcher dispatches it to the department that handles its category
    conn = connect(quiet_dsn)
    dispatcher = issue_token(conn, "demo-dispatcher", name="test")
    conn.commit()
    conn.close()
    status, body = post_json(f"{server}/api/v1/incidents/{rid}/actions/dispatch", {}, dispatcher)
    assert status == 200 and body["state"] == "dispatched", body

    dlon, dlat = places["department"]
    ctx = _phone(browser, dlon, dlat)
    page = _page(ctx)
    _sign_in(page, server, "demo-department", "onemap-department")
    page.wait_for_selector(f"#work-list button[data-id='{rid}']", timeout=15_000)
    assert page.locator(f"#work-list button[data-id='{rid}'] .t").inner_text()  # named by its category
    shot(page, "work-department")
    page.click(f"#work-list button[data-id='{rid}']")
    page.wait_for_selector("#i-actions button[data-action=arrive]", timeout=15_000)
    assert page.locator("#i-desc").inner_text() == "井盖缺失 <b>注意</b>"
    page.click("#i-route")
    page.wait_for_selector("#i-steps li", timeout=30_000)
    assert "分钟" in page.locator("#i-eta").inner_text()
    assert page.locator("#i-geo").get_attribute("href").startswith("geo:")
    shot(page, "route")

    ctx.set_offline(True)  # actions queue offline too, and are sent when the network is back
    page.click("#i-actions button[data-action=arrive]")
    page.click("#i-act-go")
    page.wait_for_selector("#outbox li[data-status=pending]", state="attached", timeout=10_000)
    assert page.locator("#i-timeline li[data-action=arrive]").count() == 0
    ctx.set_offline(False)
    page.wait_for_selector("#i-timeline li[data-action=arrive]", timeout=20_000)
    page.wait_for_selector("#i-actions button[data-action=resolve]", timeout=15_000)
    page.click("#i-actions button[data-action=resolve]")
    page.fill("#i-note", "已补装井盖")
    page.set_input_files("#i-photo", str(_jpeg(tmp_path / "after.jpg", (40, 160, 90))))
    page.wait_for_selector("#i-previews img", timeout=10_000)
    page.click("#i-act-go")
    page.wait_for_selector("#i-timeline li[data-action=resolve]", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#i-timeline').textContent.includes('已补装井盖')", timeout=10_000)
    page.wait_for_function("() => [...document.querySelectorAll('#i-photos img')].filter(i => i.naturalWidth > 0).length === 2",
                           timeout=15_000)  # the report's photo and the resolution's, shown
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    shot(page, "resolved")
    assert _one(quiet_dsn, "SELECT state FROM incident WHERE id = %s", (rid,))[0] == "resolved"
    assert _one(quiet_dsn, "SELECT count(*) FROM incident_photo WHERE incident_id = %s", (rid,))[0] == 2
    arrive_geom = _one(quiet_dsn, "SELECT geom IS NOT NULL FROM incident_event WHERE incident_id = %s AND action = 'arrive'", (rid,))
    assert arrive_geom == (True,)  # arrived with the phone's GPS
    assert ctx.hosts == {urlsplit(server).netloc}, ctx.hosts
    ctx.close()


def test_a_page_the_worker_missed_is_claimed(server, browser, places):
    """A page loaded while the service worker was activating, or by a hard reload, starts out
    uncontrolled (it would not open offline until its next navigation); the app asks the worker to
    claim it. A hard reload (CDP ``ignoreCache``) makes such a page on demand."""
    lon, lat = places["worker"]
    ctx = _phone(browser, lon, lat)
    page = _page(ctx)
    page.goto(server + "/field/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
    cdp = ctx.new_cdp_session(page)
    page.evaluate("() => { window.__before = true; }")
    cdp.send("Page.reload", {"ignoreCache": True})
    page.wait_for_function("() => window.__before === undefined && document.readyState === 'complete'")
    # the hard-reloaded document is not controlled at first; the app's message makes it so
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == "reload"
    assert ctx.errors == []
    ctx.close()


def test_manifest_is_installable_and_the_shell_is_served(server):
    status, headers, raw = get(server + "/field/manifest.webmanifest")
    assert status == 200 and headers["Content-Type"].startswith("application/manifest+json")
    m = json.loads(raw)
    assert m["name"] and m["short_name"] and m["display"] == "standalone"
    assert m["start_url"] == "/field/" and m["scope"] == "/field/" and m["theme_color"]
    sizes = {}
    for icon in m["icons"]:
        status, headers, raw = get(server + icon["src"])
        assert status == 200 and headers["Content-Type"] == "image/png"
        sizes[icon["sizes"]] = Image.open(BytesIO(raw)).size
    assert sizes["192x192"] == (192, 192) and sizes["512x512"] == (512, 512)
    status, headers, raw = get(server + "/field/sw.js")
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert headers["Service-Worker-Allowed"] == "/field/"
    status, headers, raw = get(server + "/field/")
    assert status == 200 and b'rel="manifest"' in raw
    assert "geolocation=(self)" in headers["Permissions-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert b"<script>" not in raw and b" on" not in raw.replace(b" one", b"")  # no inline script or handler
    # the command map keeps geolocation off
    assert "geolocation=()" in get(server + "/login")[1]["Permissions-Policy"]


def _login(server, username, password):
    req_status, body = _post(server + "/api/v1/field/login", {"username": username, "password": password})
    return req_status, body


def _post(url, body, token=None):
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urlopen(Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")) as r:
            return r.status, json.loads(r.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def field_user(quiet_dsn):
    """A fresh grid-worker account (so ending its tokens touches no other test)."""
    conn = connect(quiet_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grid_worker ORDER BY id OFFSET 7 LIMIT 1")
        code = cur.fetchone()[0]
    name = f"fw-{uuid.uuid4().hex[:10]}"
    create_user(conn, name, "field-pass-1", "worker", worker_code=code)
    conn.commit()
    yield name, conn
    conn.close()


def test_field_token_ends_with_logout_password_and_disable(server, field_user, quiet_dsn):
    name, conn = field_user
    status, body = _login(server, name, "field-pass-1")
    assert status == 200 and body["role"] == "worker" and body["expires_days"] == 30
    token = body["token"]
    assert get(server + "/api/v1/me", token)[0] == 200
    # sign-out revokes exactly this token
    status, other = _login(server, name, "field-pass-1")
    assert _post(server + "/api/v1/field/logout", {}, token) == (200, {"revoked": True})
    assert get(server + "/api/v1/me", token)[0] == 401
    second = other["token"]
    assert get(server + "/api/v1/me", second)[0] == 200
    # a password change (what `onemap users passwd` calls) ends every field token of the account
    set_password(conn, name, "field-pass-2")
    conn.commit()
    assert get(server + "/api/v1/me", second)[0] == 401
    assert _login(server, name, "field-pass-1")[0] == 401
    status, body = _login(server, name, "field-pass-2")
    assert status == 200
    disable_user(conn, name)
    conn.commit()
    assert get(server + "/api/v1/me", body["token"])[0] == 401
    assert _login(server, name, "field-pass-2")[0] == 403
    # every sign-in and sign-out is audited
    actions = _one(quiet_dsn, "SELECT array_agg(action ORDER BY id) FROM audit_log WHERE username = %s "
                              "OR detail->>'username' = %s", (name, name))[0]
    assert actions.count("login") == 3 and "logout" in actions and "login_failed" in actions


def test_field_login_refuses_other_roles_and_bad_bodies(server):
    assert _login(server, "demo-analyst", "onemap-analyst")[0] == 403
    assert _post(server + "/api/v1/field/login", ["x"])[0] == 422
    assert _post(server + "/api/v1/field/login", {"username": 3, "password": None})[0] == 422


def test_visits_are_idempotent_on_the_phone_uuid(server, field_user):
    name, _conn = field_user
    token = _login(server, name, "field-pass-1")[1]["token"]
    vid = str(uuid.uuid4())
    visit = {"id": vid, "kind": "household", "place": "李家", "note": "独居老人，身体好",
             "visited_at": datetime.now(timezone.utc).isoformat()}
    assert _post(server + "/api/v1/visits", visit, token)[0] == 201
    assert _post(server + "/api/v1/visits", visit, token)[0] == 200  # a retry from the outbox
    assert _post(server + "/api/v1/visits", {**visit, "place": "王家"}, token)[0] == 409
    status, body = _post(server + "/api/v1/visits", {**visit, "id": "nope", "kind": "x", "place": ""}, token)
    assert status == 422 and set(body["error"]["fields"]) >= {"id", "kind", "place"}
    status, _h, raw = get(server + "/api/v1/visits", token)
    items = json.loads(raw)["items"]
    assert [v["id"] for v in items] == [vid]
    status, _h, raw = get(server + "/api/v1/field/week", token)
    assert status == 200 and json.loads(raw)["visits"] == 1
    # department staff keep no visit log
    dept = _login(server, "demo-department", "onemap-department")[1]["token"]
    assert _post(server + "/api/v1/visits", {**visit, "id": str(uuid.uuid4())}, dept)[0] == 403


def test_allowed_actions_follow_the_transition_table_and_the_role(server, places, quiet_dsn):
    conn = connect(quiet_dsn)
    worker = issue_token(conn, "demo-worker", name="test")
    dispatcher = issue_token(conn, "demo-dispatcher", name="test")
    conn.commit()
    conn.close()
    lon, lat = places["worker"]
    rid = str(uuid.uuid4())
    status, body = post_json(server + "/api/v1/incidents", {
        "id": rid, "category": places["category"], "lon": lon, "lat": lat,
        "observed_at": datetime.now(timezone.utc).isoformat()}, worker)
    assert status == 201
    as_worker = json.loads(get(f"{server}/api/v1/incidents/{rid}", worker)[2])
    assert as_worker["allowed_actions"] == []  # a worker neither accepts nor dispatches
    as_dispatcher = json.loads(get(f"{server}/api/v1/incidents/{rid}", dispatcher)[2])
    assert as_dispatcher["allowed_actions"] == ["accept", "dispatch", "escalate", "reject"]
    post_json(f"{server}/api/v1/incidents/{rid}/actions/dispatch", {}, dispatcher)
    as_worker = json.loads(get(f"{server}/api/v1/incidents/{rid}", worker)[2])
    assert as_worker["allowed_actions"] == ["arrive", "start"]
    # every offered action is one the server then accepts
    status, body = post_json(f"{server}/api/v1/incidents/{rid}/actions/arrive", {}, worker)
    assert status == 200 and body["allowed_actions"] == ["resolve"]


def test_a_report_the_server_refuses_shows_refused_and_why(server, browser, places, quiet_dsn):
    lon, lat = places["worker"]
    ctx = _phone(browser, lon, lat)
    page = _page(ctx)
    _sign_in(page, server, "demo-worker", "onemap-worker")
    page.wait_for_function("() => document.querySelectorAll('#r-category option').length > 3", timeout=15_000)
    page.wait_for_function("() => document.querySelector('#r-acc').textContent.includes('12')", timeout=15_000)
    page.select_option("#r-category", places["category"])
    page.fill("#r-time", "2099-01-01T08:00")  # a phone clock far in the future: the server refuses it
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#outbox li[data-status=refused]", timeout=15_000)
    item = page.locator("#outbox li[data-status=refused]").first
    assert "observed_at" in item.inner_text() and "future" in item.inner_text()
    rid = item.get_attribute("data-id")
    assert _one(quiet_dsn, "SELECT count(*) FROM incident WHERE id = %s", (rid,))[0] == 0
    shot(page, "refused", bottom=True)
    ctx.close()
