"""The three gaps of issue 13, in a real headless Chromium: the suggested new station as a map
layer (computed on first toggle with a "computing…" state, then cached; it stays on through a
drill-down and a live update), the leaders' search box (a unit drills down, a place or an incident
is flown to and ringed, the incident's panel opens), and the wall's alert sound (one per incident
and level, none with the switch off). Screenshots go to var/screenshots/."""
from __future__ import annotations

import re

from test_browser import SHOTS, browser, monkeypatch_module, server  # noqa: F401 (fixtures)
from test_mapwall import KPI_READY, MAP_READY, REPORT_JS, layer_box, login, pane_hidden, shot, token

from db.core import connect

from conftest import scalar

REGION = "150623"
STATION_MARK = ".leaflet-pane-station-pane path.om-station-mark"
SCALE_M = """() => { const t = document.querySelector('#MAP .leaflet-control-scale-line').innerText.trim();
    const n = parseFloat(t); return t.endsWith('km') ? n * 1000 : n; }"""
RING_OFF_CENTRE = """() => { const m = document.querySelector('#m-map').getBoundingClientRect();
    const r = document.querySelector('.leaflet-pane-found-pane path').getBoundingClientRect();
    return Math.hypot((r.left + r.right) / 2 - (m.left + m.right) / 2, (r.top + r.bottom) / 2 - (m.top + m.bottom) / 2); }"""


def run(dsn: str, statement: str, params: dict | None = None) -> None:
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params or {})
    finally:
        conn.close()


def test_the_suggested_station_is_a_layer_computed_on_first_toggle_and_kept(server, browser, quiet_dsn):  # noqa: F811
    run(quiet_dsn, "DELETE FROM coverage_suggestion")  # nothing cached: the first toggle computes
    page = login(browser, server)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.wait_for_function(KPI_READY, timeout=30_000)
    page.wait_for_selector("#m-live.om-live:not(.off)", timeout=30_000)
    # off when the page opens, and nothing computed for it
    assert not layer_box(page, "station").is_checked() and pane_hidden(page, "station")
    assert scalar(quiet_dsn, "SELECT count(*) FROM coverage_suggestion") == 0
    layer_box(page, "station").click()
    page.wait_for_selector("#m-station-status.busy .om-station-busy", state="visible", timeout=10_000)
    assert "计算" in page.inner_text("#m-station-status")
    shot(page, "gaps_station_computing")
    # the page is not frozen meanwhile: another layer switches at once
    layer_box(page, "gaps").click()
    page.wait_for_function("() => !document.querySelector('#m-mapwrap').classList.contains('om-hide-gaps')")
    page.wait_for_selector(STATION_MARK, timeout=90_000)
    page.wait_for_selector("#m-station-status:not(.busy)", timeout=10_000)
    label = page.inner_text(".om-station-label")
    assert "综治中心" in label and "新覆盖居民" in label and re.search(r"\d", label), label
    assert page.inner_text("#m-station-text") == label
    page.wait_for_function("() => document.querySelector('#m-legend').innerText.indexOf('建议新综治中心') >= 0")
    fill = page.locator(STATION_MARK).get_attribute("fill")
    assert fill.lower() == "#7fff00"  # its own colour (mapview.STATION_COLOR), the legend's swatch
    # computed once, for the leader's jurisdiction (the API's actor rule), and kept
    assert scalar(quiet_dsn, "SELECT array_agg(scope) FROM coverage_suggestion") == [REGION]
    computed = scalar(quiet_dsn, "SELECT computed_at FROM coverage_suggestion")
    # off and on again: from the cache, nothing computed again
    layer_box(page, "station").click()
    page.wait_for_function("() => document.querySelector('#m-mapwrap').classList.contains('om-hide-station')")
    layer_box(page, "station").click()
    page.wait_for_function("() => !document.querySelector('#m-mapwrap').classList.contains('om-hide-station')")
    # a drill-down and a live update: the switch and the layer stay on
    box = page.locator("#m-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_function("() => document.querySelectorAll('#m-crumbs button').length === 2", timeout=15_000)
    assert page.evaluate(REPORT_JS, [token(quiet_dsn), 107.4751, 38.1798]) in (200, 201)
    page.wait_for_timeout(2500)
    assert layer_box(page, "station").is_checked() and not pane_hidden(page, "station")
    assert page.locator(STATION_MARK).count() == 1
    assert scalar(quiet_dsn, "SELECT computed_at FROM coverage_suggestion") == computed
    shot(page, "gaps_station_layer")
    assert page.errors == []
    page.context.close()


def test_the_leaders_search_drills_down_and_flies_to_places_and_incidents(server, browser, quiet_dsn):  # noqa: F811
    town = scalar(quiet_dsn, "SELECT name FROM grid_unit WHERE code = '150623002'")
    facility = scalar(quiet_dsn, "SELECT name FROM facility WHERE region_code = %s AND name NOT LIKE %s "
                                 "ORDER BY id LIMIT 1", (REGION, town + "%"))
    page = login(browser, server)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.wait_for_function(KPI_READY, timeout=30_000)
    page.wait_for_timeout(1500)
    # a unit: the page drills down to it (breadcrumb, numbers and map follow)
    page.fill("#m-search", town)
    page.press("#m-search", "Enter")
    hit = page.locator("#m-search-results .om-c-hit", has_text=town).first
    hit.wait_for(timeout=15_000)
    shot(page, "gaps_search_hits")
    hit.click()
    page.wait_for_function("t => (e => e && e.title === t)(document.querySelector('#m-crumbs button.current'))",
                           arg=town, timeout=15_000)
    assert page.locator("#m-search-results .om-c-hit").count() == 0  # the list closes
    page.wait_for_timeout(2000)
    scale = SCALE_M.replace("#MAP", "#m-map")
    town_scale = page.evaluate(scale)
    # a facility: the map flies to it (closer in) and rings it
    page.fill("#m-search", facility)
    page.press("#m-search", "Enter")
    page.locator("#m-search-results .om-c-hit", has_text=facility).first.click()
    page.wait_for_selector(".leaflet-pane-found-pane path", timeout=15_000)
    page.wait_for_timeout(3000)  # the flight
    assert page.evaluate(scale) < town_scale
    assert page.evaluate(RING_OFF_CENTRE) < 40
    # an incident by its number: flown to, ringed, its panel open
    incident = page.evaluate(REPORT_JS.replace("return r.status;", "return (await r.json()).id;"),
                             [token(quiet_dsn), 107.4751, 38.1798])
    page.fill("#m-search", incident[:8])
    page.press("#m-search", "Enter")
    page.locator("#m-search-results .om-c-hit", has_text=incident[:8]).first.click()
    page.wait_for_selector("#m-detail h3", timeout=15_000)
    assert page.locator("#m-detail").is_visible()
    page.wait_for_timeout(3000)
    assert page.evaluate(RING_OFF_CENTRE) < 40
    shot(page, "gaps_search_incident")
    assert page.errors == []
    page.context.close()


def test_the_wall_sounds_once_per_incident_and_level_and_not_when_switched_off(server, browser, quiet_dsn):  # noqa: F811
    wall = login(browser, server, path="/wall?sound=1", lang=None)  # an unattended wall starts with sound
    wall.wait_for_selector("#w-live.om-live:not(.off)", timeout=30_000)
    wall.wait_for_timeout(1000)
    assert wall.locator("#w-sound input").is_checked()
    sounds = "() => window.onemapSound.count"
    assert wall.evaluate(sounds) == 0
    tok = token(quiet_dsn)
    report = REPORT_JS.replace("return r.status;", "return (await r.json()).id;")
    escalate = ("INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level,"
                " actor, note) SELECT id, region_code, due_at, 'escalate', state, 'accepted', 3, 'system',"
                " 'deadline missed' FROM incident WHERE id = %(id)s ON CONFLICT DO NOTHING")
    first = {"id": wall.evaluate(report, [tok, 107.4751, 38.1798])}
    # overdue at the grid level, two actions: one alert, one sound
    run(quiet_dsn, "UPDATE incident SET due_at = now() - interval '1 hour' WHERE id = %(id)s", first)
    run(quiet_dsn, "SELECT incident_act(%(id)s, 'accept', 'test')", first)
    wall.wait_for_function("() => window.onemapSound.count === 1", timeout=20_000)
    run(quiet_dsn, "SELECT incident_act(%(id)s, 'start', 'test')", first)
    # escalated to the village: a second alert and a second sound; the same escalation again: none
    run(quiet_dsn, escalate, first)
    wall.wait_for_function("() => document.querySelectorAll('.om-alert').length === 2", timeout=20_000)
    wall.wait_for_function("() => window.onemapSound.count === 2", timeout=10_000)
    run(quiet_dsn, escalate, first)
    wall.wait_for_timeout(2500)
    assert wall.evaluate(sounds) == 2 and wall.get_attribute("html", "data-onemap-sounds") == "2"
    shot(wall, "gaps_wall_sound_on")
    # switched off on the wall: a new incident's alert shows, silently
    wall.locator("#w-sound input").uncheck()
    second = {"id": wall.evaluate(report, [tok, 107.4751, 38.1798])}
    run(quiet_dsn, "UPDATE incident SET due_at = now() - interval '1 hour' WHERE id = %(id)s", second)
    run(quiet_dsn, "SELECT incident_act(%(id)s, 'accept', 'test')", second)
    wall.wait_for_function("() => document.querySelectorAll('.om-alert').length === 3", timeout=20_000)
    wall.wait_for_timeout(2000)
    assert wall.evaluate(sounds) == 2
    # a wall opened without ?sound=1 starts silent
    quiet = wall.context.new_page()
    quiet.goto(server + "/wall")
    quiet.wait_for_selector("#w-sound input", timeout=30_000)
    assert not quiet.locator("#w-sound input").is_checked()
    assert wall.errors == []
    wall.context.close()
