"""The dashboard in a real headless Chromium, served by the production WSGI server."""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from waitress.server import create_server

from app import Settings, create_app

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server(demo_dsn):
    """The app on a free local port, in a background thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=demo_dsn)), host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    srv.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_leaders_page_renders_the_grid_offline(server, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors, hosts = [], set()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname))
    page.goto(server + "/")
    page.wait_for_selector("#kpi-cells:text('401')", timeout=30_000)
    page.wait_for_function("document.querySelectorAll('.leaflet-map-pane path').length > 500",
                           timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "leaders_zh.png"))
    assert page.inner_text("#title").startswith("鄂托克前旗")
    assert page.inner_text("#kpi-population") == "80,000"
    assert page.locator(".onemap-label").count() == 4  # the four town names on the map
    assert page.locator(".leaflet-pane-facilities-pane path").count() >= 80  # facility markers
    assert errors == []
    assert hosts == {"127.0.0.1"}, f"requests left the machine: {hosts}"

    page.get_by_text("English").click()
    page.wait_for_selector("#title:text('Otog Front Banner')", timeout=10_000)
    assert page.inner_text("#kpi-cells-label") == "Grid cells"
    page.screenshot(path=str(SHOTS / "leaders_en.png"))
    page.close()


def test_unknown_layer_is_404(server, browser):
    page = browser.new_page()
    response = page.goto(server + "/layers/nope.geojson")
    assert response.status == 404
    page.close()
