"""The command map in real Chromium: every layer URL is the layer registry's, built in the browser.

A pan or zoom and a drill-down refetch layers without any server callback computing a URL or a
style (dashboard/mapview.py, onemap_map in assets/onemap.js); the server still checks the unit.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from test_browser import browser, monkeypatch_module, open_page, server  # noqa: F401 (fixtures)


def _watch(page):
    """Record layer fetches and the outputs of every server callback the page asks for."""
    page.layer_urls, page.server_outputs = [], []

    def on_request(r):
        if "/layers/" in r.url:
            page.layer_urls.append(r.url)
        elif r.url.split("?")[0].endswith("/_dash-update-component") and r.post_data:
            page.server_outputs.append(json.loads(r.post_data).get("output", ""))

    page.on("request", on_request)


def test_zoom_and_drill_down_cost_no_server_callback_for_layer_urls(server, browser):  # noqa: F811
    page = open_page(browser, server)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 500",
                           timeout=30_000)
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-open'))",
                           timeout=30_000)
    page.wait_for_timeout(1500)
    _watch(page)
    box = page.locator("#m-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.wheel(0, -600)  # zoom in
    page.wait_for_timeout(2500)
    zooms = [parse_qs(urlsplit(u).query).get("zoom") for u in page.layer_urls if "/layers/incidents." in u]
    assert zooms and any(z for z in zooms), page.layer_urls  # the incidents layer followed the zoom
    assert not [o for o in page.server_outputs if "m-layer-" in o], page.server_outputs
    # a drill-down: the breadcrumb (a server callback: names and bounds); the base layers stay those of
    # the jurisdiction (dimmed outside the unit in the browser), the incidents' URL follows the unit
    page.layer_urls.clear()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_function("() => document.querySelectorAll('#m-crumbs button').length >= 2", timeout=15_000)
    page.wait_for_timeout(2500)
    assert not [u for u in page.layer_urls if "/layers/cells." in u], page.layer_urls  # no refetch
    units = {parse_qs(urlsplit(u).query).get("unit", [""])[0] for u in page.layer_urls if "/layers/incidents." in u}
    assert any(len(u) == 9 for u in units), page.layer_urls  # the incidents of the town clicked into
    assert not [o for o in page.server_outputs if "m-layer-" in o], page.server_outputs
    assert all("/layers/" in u and "/api/v1/" not in u for u in page.layer_urls)
    assert page.errors == []
    page.close()


def test_the_wall_map_takes_every_layer_from_the_registry(server, browser):  # noqa: F811
    page = open_page(browser, server, path="/wall")
    _watch(page)
    page.reload()  # every fetch of the page watched from the start
    page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#w-kpi-open'))",
                           timeout=30_000)
    page.wait_for_timeout(2000)
    names = {urlsplit(u).path.rsplit("/", 1)[1] for u in page.layer_urls}
    assert {"cells.geojson", "incidents.geojson", "worker_positions.geojson"} <= names, names
    assert not [o for o in page.server_outputs if "w-layer-" in o], page.server_outputs
    assert page.errors == []
    page.close()


def test_the_station_label_and_unit_names_go_onto_the_map_as_text(server, browser):  # noqa: F811
    """A label or name holding markup (from data, or a future label that carries it) is shown as
    text by the map's tooltips: no element is made from it, no script runs."""
    page = open_page(browser, server)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-map-pane path').length > 500",
                           timeout=30_000)
    mark = "<img src=x onerror=window.__xss=1>"
    shown = page.evaluate("""mark => {
        const map = L.map(document.createElement('div')).setView([38.2, 107.5], 9);
        map.createPane('pane-station');
        const m = window.onemap.map.stationPoint({properties: {label: mark}}, L.latLng(38.2, 107.5),
                                                 {hideout: {}}).addTo(map);
        const tip = m.getTooltip().getElement();
        return {text: tip.textContent, imgs: tip.querySelectorAll('img').length};
    }""", mark)
    page.wait_for_timeout(300)
    assert shown == {"text": mark, "imgs": 0}
    assert page.evaluate("() => window.__xss === undefined")
    page.close()
