"""The dashboard in a real headless Chromium, served in-process by waitress (tests/test_dash_assets.py covers `onemap serve`)."""
from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest
from waitress.server import create_server

from app import Settings, create_app
from data.users import issue_token
from db.core import connect

from conftest import chromium

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture(scope="module")
def server(quiet_dsn, monkeypatch_module):
    """The app on a free local port, in a background thread (quiet_dsn: tests here write)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(dsn=quiet_dsn))
    srv = create_server(app, host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    # Let the live streams notice their closed pages before the sockets go: a stream still
    # writing after close() could write into a file descriptor a new connection has reused.
    broker = app.extensions["onemap_broker"]
    deadline = time.monotonic() + 10
    while broker.open_streams() and time.monotonic() < deadline:
        time.sleep(0.2)
    srv.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("ONEMAP_SSE_HEARTBEAT_S", "1")  # closed pages are noticed within a second
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def browser(server):
    """Chromium; it closes (and with it every page's live stream) before the server stops."""
    with chromium() as b:
        yield b


def open_page(browser, server, username="demo-leader", password="onemap-leader", path="/"):
    """A logged-in page at ``path``, recording console errors and every host it contacts."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.errors, page.hosts, page.layer_bodies = [], set(), []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.hosts.add(urlsplit(r.url).hostname))
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/", timeout=15_000)
    if path != "/":
        page.goto(server + path)
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def post_report(server, token, lon, lat):
    body = {"id": str(uuid.uuid4()), "category": "public_order", "description": "浏览器测试",
            "lon": lon, "lat": lat, "observed_at": datetime.now(timezone.utc).isoformat()}
    req = Request(server + "/api/v1/incidents", data=json.dumps(body).encode(), method="POST",
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urlopen(req) as r:
        return json.loads(r.read())


def test_leaders_page_offline_with_layers_and_drill_down(server, browser):
    page = open_page(browser, server)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 500", timeout=30_000)
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-open'))", timeout=30_000)
    assert page.locator(".onemap-label").count() == 4  # the four town names
    assert page.locator(".leaflet-pane-facilities-pane path").count() >= 80
    assert page.locator("#m-crumbs button").count() == 1
    shot(page, "leaders_banner")
    # click the map near the banner seat: the breadcrumb grows by one level, to a town
    box = page.locator("#m-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_function("() => document.querySelectorAll('#m-crumbs button').length === 2", timeout=15_000)
    town = page.inner_text("#m-crumbs button.current")
    assert town in {"敖勒召其镇", "上海庙镇", "城川镇", "昂素镇"}
    page.wait_for_timeout(1500)
    shot(page, "leaders_town")
    assert page.errors == []
    assert page.hosts == {"127.0.0.1"}, f"requests left the machine: {page.hosts}"
    page.close()


def test_english_switch(server, browser):
    page = open_page(browser, server)
    page.wait_for_selector("#title")
    page.get_by_text("English").click()
    page.wait_for_selector("#title:text('Otog Front Banner')", timeout=15_000)
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-open'))", timeout=30_000)
    assert page.inner_text("#m-kpi-open-label") == "Open"
    shot(page, "leaders_en")
    assert page.errors == []
    page.close()


def test_a_report_appears_live(server, browser, quiet_dsn):
    conn = connect(quiet_dsn)
    token = issue_token(conn, "demo-dispatcher", f"browser-{uuid.uuid4().hex[:6]}")
    conn.commit()
    conn.close()
    page = open_page(browser, server)
    page.wait_for_selector("#m-live.om-live:not(.off)", timeout=30_000)
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-new_today'))", timeout=30_000)
    before = int(page.inner_text("#m-kpi-new_today").replace(",", ""))
    post_report(server, token, 107.4751, 38.1798)
    page.wait_for_function(f"() => parseInt(document.querySelector('#m-kpi-new_today').innerText.replace(',', '')) === {before + 1}",
                           timeout=20_000)
    shot(page, "leaders_live")
    assert page.errors == []
    page.close()


def test_town_leader_sees_only_their_town(server, browser):
    page = open_page(browser, server, "demo-leader-shanghaimiao", "onemap-leader")
    bodies = []
    page.on("response", lambda r: "/layers/" in r.url and r.ok and bodies.append(r.text()))
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 50", timeout=30_000)
    page.wait_for_timeout(2000)
    assert page.inner_text("#m-crumbs button.current") == "上海庙镇"
    codes = [f["properties"].get("code") or f["properties"].get("cell_code") or f["properties"].get("unit_code")
             for b in bodies for f in json.loads(b)["features"]]
    codes = [c for c in codes if c]
    assert codes and all(c.startswith("150623002") or "150623002".startswith(c) for c in codes)
    denied = page.request.get(server + "/layers/cells.geojson?unit=150623001")
    assert denied.status == 403
    shot(page, "town_leader")
    assert page.errors == []
    page.close()


def test_wall_display(server, browser):
    page = open_page(browser, server, path="/wall")
    page.wait_for_function("() => (e => e && /\\d{2}:\\d{2}:\\d{2}/.test(e.innerText))(document.querySelector('#w-clock'))",
                           timeout=20_000)
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#w-kpi-open'))", timeout=30_000)
    page.wait_for_selector("#w-live.om-live:not(.off)", timeout=30_000)
    assert page.inner_text("#w-focus")
    shot(page, "wall")
    assert page.errors == []
    assert page.hosts == {"127.0.0.1"}
    page.close()
