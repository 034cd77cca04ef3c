"""The map and the wall in a real headless Chromium (issue 13, part 2): the map keeps its state
through drill-downs and live updates, live events update the page in place over one stream, every
visible layer has a legend, the wall follows new reports and raises alerts, and nothing overlaps
at 1366×768 or 1920×1080 in either language. Screenshots go to var/screenshots/."""
from __future__ import annotations

import json
import uuid

from test_browser import SHOTS, browser, monkeypatch_module, server  # noqa: F401 (fixtures)

from data.users import issue_token
from db.core import connect

KPI_READY = "() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-open'))"
MAP_READY = "() => document.querySelectorAll('.leaflet-pane-cells-pane path').length > 300"


def login(browser, server, username="demo-leader", password="onemap-leader", path="/",  # noqa: F811
          size=(1920, 1080), lang="zh"):
    """A signed-in page at ``path`` in ``lang`` (whatever the user chose before, in other tests) that
    records console errors, stream opens and server callbacks."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.errors, page.streams, page.callbacks = [], [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))

    def on_request(r):
        if "/events/stream" in r.url:
            page.streams.append(r.url)
        elif r.url.split("?")[0].endswith("/_dash-update-component") and r.post_data:
            page.callbacks.append(json.loads(r.post_data).get("output", ""))

    page.on("request", on_request)
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/", timeout=15_000)
    if path != "/" or lang:
        page.streams.clear()  # what the page opened after sign-in is not this page's
        page.callbacks.clear()
        page.goto(server + path + (f"?lang={lang}" if lang else ""))
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def token(dsn: str) -> str:
    """A dispatcher's API token (reports through the API, as the field app sends them)."""
    conn = connect(dsn)
    value = issue_token(conn, "demo-dispatcher", f"mapwall-{uuid.uuid4().hex[:6]}")
    conn.commit()
    conn.close()
    return value


REPORT_JS = """async ([tok, lon, lat]) => {
    const body = {id: crypto.randomUUID(), category: "public_order", description: "mapwall", lon: lon, lat: lat,
                  observed_at: new Date().toISOString()};
    window.reportedAt = performance.timeOrigin + performance.now();  // one clock for every page
    const r = await fetch("/api/v1/incidents", {method: "POST", body: JSON.stringify(body),
        headers: {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}});
    return r.status;
}"""

WATCH_JS = """(sel) => { window.changedAt = null; const el = document.querySelector(sel); const was = el.innerText;
    new MutationObserver(() => { if (window.changedAt === null && el.innerText !== was) {
        window.changedAt = performance.timeOrigin + performance.now(); } }).observe(el, {subtree: true, childList: true, characterData: true}); }"""


def pane_hidden(page, name: str) -> bool:
    return page.evaluate(f"() => getComputedStyle(document.querySelector('.leaflet-pane-{name}-pane')).display") == "none"


def layer_box(page, value: str):
    return page.locator(f"#m-layers input[value='{value}']")


def test_layer_switches_and_theme_survive_drill_down_and_live_updates(server, browser, quiet_dsn):  # noqa: F811
    page = login(browser, server)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.wait_for_function(KPI_READY, timeout=30_000)
    page.wait_for_selector("#m-live.om-live:not(.off)", timeout=30_000)
    assert not pane_hidden(page, "incidents")
    layer_box(page, "incidents").click()  # 事件 off
    layer_box(page, "gaps").click()  # coverage gaps on
    layer_box(page, "station").click()  # the suggested new station on (computed now, or read from its cache)
    page.wait_for_function("() => document.querySelector('#m-mapwrap').classList.contains('om-hide-incidents')")
    assert pane_hidden(page, "incidents") and not pane_hidden(page, "gaps") and not pane_hidden(page, "station")
    page.wait_for_selector(".leaflet-pane-station-pane path.om-station-mark", timeout=90_000)
    page.wait_for_timeout(1000)
    calls, layers = len(page.callbacks), []
    page.on("request", lambda r: "/layers/" in r.url and layers.append(r.url))
    page.locator("#m-metric").click()
    page.get_by_text("千人", exact=False).last.click()
    page.wait_for_function("() => document.querySelector('#m-metric').innerText.indexOf('千人') >= 0")
    page.wait_for_function("() => document.querySelector('#m-legend').innerText.indexOf('千人') >= 0")
    page.wait_for_timeout(1000)
    # a theme switch is one query for the theme's values and the legend: no chart, no layer refetched
    assert set(page.callbacks[calls:]) <= {"m-theme.data", "m-legend.children"}, page.callbacks[calls:]
    assert layers == [], layers
    cells_before = page.evaluate("() => document.querySelectorAll('.leaflet-pane-cells-pane path').length")
    # drill down into a town by a click on the map
    box = page.locator("#m-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.wait_for_function("() => document.querySelectorAll('#m-crumbs button').length === 2", timeout=15_000)
    town = page.locator("#m-crumbs button.current").get_attribute("title")
    # a live update: a report in that town
    status = page.evaluate(REPORT_JS, [token(quiet_dsn), 107.4751, 38.1798])
    assert status in (200, 201), status
    page.wait_for_timeout(2500)
    # the switches stayed as they were, the layer stayed off, the theme stayed
    assert not layer_box(page, "incidents").is_checked() and layer_box(page, "gaps").is_checked()
    assert layer_box(page, "station").is_checked()
    assert pane_hidden(page, "incidents") and not pane_hidden(page, "gaps") and not pane_hidden(page, "station")
    assert page.locator(".leaflet-pane-station-pane path.om-station-mark").count() == 1
    assert "千人" in page.inner_text("#m-metric")
    # outside the town: dimmed, not blacked out (every cell still drawn, those outside paler)
    fills = page.evaluate("() => Array.from(document.querySelectorAll('.leaflet-pane-cells-pane path'))"
                          ".map(p => p.getAttribute('fill-opacity'))")
    assert len(fills) == cells_before and "0.3" in fills and "0.8" in fills
    # labels by level: the town's villages are named on the map, the town itself is not
    labels = page.evaluate("() => Array.from(document.querySelectorAll('.onemap-label')).map(e => e.innerText)")
    assert labels and town not in labels, labels
    assert page.evaluate("window.onemapLive.opened") == 1, page.streams  # one EventSource, never a new one
    # patrol coverage, from the layer registry, is one more layer of the switch
    layer_box(page, "patrol").click()
    page.wait_for_function("() => document.querySelectorAll('.leaflet-pane-patrol-pane path').length > 10",
                           timeout=20_000)
    assert not pane_hidden(page, "patrol")
    page.wait_for_function("() => document.querySelector('#m-legend').innerText.indexOf('巡查') >= 0")
    shot(page, "mw_state_after_drill_down")
    assert page.errors == []
    page.context.close()


def test_clusters_leave_the_click_to_the_cell_under_the_cursor(server, browser, quiet_dsn):  # noqa: F811
    page = login(browser, server)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.evaluate(REPORT_JS, [token(quiet_dsn), 107.4751, 38.1798])
    page.wait_for_selector(".om-cluster", timeout=15_000)
    page.wait_for_timeout(1000)
    box = page.locator(".om-cluster").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    under = page.evaluate(f"() => document.elementFromPoint({x}, {y}).closest('.om-cluster') === null")
    assert under, "the cluster's mark takes the click"
    page.mouse.click(x, y)  # one click drills down
    page.wait_for_function("() => document.querySelectorAll('#m-crumbs button').length === 2", timeout=15_000)
    assert page.errors == []
    page.context.close()


def test_a_report_updates_counts_and_ticker_in_place_over_one_stream(server, browser, quiet_dsn):  # noqa: F811
    tok = token(quiet_dsn)
    leader = login(browser, server)
    leader.wait_for_function(KPI_READY, timeout=30_000)
    leader.wait_for_selector("#m-live.om-live:not(.off)", timeout=30_000)
    wall = login(browser, server, path="/wall")
    wall.wait_for_function("() => document.querySelectorAll('#w-ticker div').length >= 0 && "
                           "(e => e && e.innerText !== '–')(document.querySelector('#w-kpi-open'))", timeout=30_000)
    wall.wait_for_selector("#w-live.om-live:not(.off)", timeout=30_000)
    leader.wait_for_timeout(1500)
    wall.wait_for_timeout(1500)
    leader.evaluate(WATCH_JS, "#m-kpi-new_today")
    wall.evaluate(WATCH_JS, "#w-ticker")
    before = int(leader.inner_text("#m-kpi-new_today").replace(",", ""))
    calls_before = len(leader.callbacks)
    leader.evaluate(REPORT_JS, [tok, 107.4751, 38.1798])
    leader.wait_for_function("() => window.changedAt !== null", timeout=10_000)
    wall.wait_for_function("() => window.changedAt !== null", timeout=10_000)
    assert int(leader.inner_text("#m-kpi-new_today").replace(",", "")) == before + 1
    lag = leader.evaluate("() => window.changedAt - window.reportedAt")
    wall_lag = wall.evaluate("() => window.changedAt") - leader.evaluate("() => window.reportedAt")
    (SHOTS / "mw_live_lag.txt").write_text(f"leader counts {lag:.0f} ms, wall ticker {wall_lag:.0f} ms\n")
    assert lag < 1000 and wall_lag < 1000, (lag, wall_lag)
    # in place: the counts' callback first, nothing re-rendered the page, no stream reopened
    immediate = leader.callbacks[calls_before:]
    assert immediate and "m-kpi-open" in immediate[0], immediate
    assert not [c for c in immediate if "page.children" in c]
    wall.wait_for_function("() => (e => e && e.innerText.length > 0)(document.querySelector('#w-focus'))")
    wall.wait_for_function("() => document.querySelector('#w-focus').innerText.indexOf('新上报') === 0",
                           timeout=20_000)  # the wall jumped to the report
    assert leader.evaluate("window.onemapLive.opened") == 1 and wall.evaluate("window.onemapLive.opened") == 1
    shot(leader, "mw_live_leader")
    shot(wall, "mw_live_wall")
    assert leader.errors == [] and wall.errors == []
    leader.context.close()
    wall.context.close()


OVERLAP_JS = """(sels) => {
    const boxes = [];
    sels.forEach(sel => document.querySelectorAll(sel).forEach(el => {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) { boxes.push({sel: sel, l: r.left, r: r.right, t: r.top, b: r.bottom}); }
    }));
    const bad = [];
    for (let i = 0; i < boxes.length; i++) {
        const a = boxes[i];
        if (a.l < 0 || a.r > window.innerWidth + 0.5 || a.b > window.innerHeight + 0.5) { bad.push("outside " + a.sel); }
        for (let j = i + 1; j < boxes.length; j++) {
            const b = boxes[j];
            if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5) {
                bad.push(a.sel + " overlaps " + b.sel);
            }
        }
    }
    return bad;
}"""
ONE_LINE_JS = """(sels) => {
    const bad = [];
    sels.forEach(sel => document.querySelectorAll(sel).forEach(el => {
        const lh = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5;
        const r = el.getBoundingClientRect();
        if (r.height > 2 * lh || el.scrollHeight > el.clientHeight + 2) { bad.push(sel + " wraps: " + el.innerText); }
    }));
    return bad;
}"""
HEADER = ["#title", "#m-crumbs", "#m-search-box", ".om-navs", "#m-live", ".om-lang", "#m-user"]


def drill_to_cell(page):
    """Down to a cell: click the map where a child unit is named until the breadcrumb has four levels."""
    for depth in (2, 3, 4):
        for label in page.locator(".onemap-label").all():
            box = label.bounding_box()
            if not box:
                continue
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            try:
                page.wait_for_function(f"() => document.querySelectorAll('#m-crumbs button').length === {depth}",
                                       timeout=5_000)
                break
            except Exception:  # noqa: BLE001 (the label's centre fell outside its unit: the next one)
                continue
        page.wait_for_timeout(1500)
    assert page.locator("#m-crumbs button").count() == 4


def test_nothing_overlaps_or_wraps_at_both_sizes_in_both_languages(server, browser, quiet_dsn):  # noqa: F811
    tok = token(quiet_dsn)
    for lang in ("zh", "en"):
        for size in ((1366, 768), (1920, 1080)):
            page = login(browser, server, size=size, lang=lang)
            page.wait_for_function(MAP_READY, timeout=30_000)
            page.wait_for_function(KPI_READY, timeout=30_000)
            page.wait_for_timeout(1000)
            drill_to_cell(page)
            page.wait_for_timeout(1500)
            bad = page.evaluate(OVERLAP_JS, HEADER)
            bad += page.evaluate(OVERLAP_JS, ["#m-filters > *"])
            bad += page.evaluate(OVERLAP_JS, [".om-layerpanel", ".leaflet-control-zoom", "#m-detail"])
            bad += page.evaluate(ONE_LINE_JS, ["#title", "#m-crumbs button", "#m-search", ".om-nav", ".om-btn", "#m-live",
                                               ".om-lang label", ".om-kpis .k"])
            header = page.locator("#m-header").bounding_box()
            assert header["height"] <= 60
            assert bad == [], (lang, size, bad)
            # the search box keeps room to type a number or a name (its CSS minimum, 110 px)
            assert page.locator("#m-search-box").bounding_box()["width"] >= 109.5, (lang, size)
            # the language switch reads light on navy
            color = page.evaluate("() => getComputedStyle(document.querySelector('.om-lang label')).color")
            assert color in ("rgb(230, 237, 243)",), color
            shot(page, f"mw_layout_{lang}_{size[0]}")
            page.evaluate(REPORT_JS, [tok, 107.4751, 38.1798])  # a cluster on the wall, at least
            wall = page.context.new_page()
            wall.goto(server + "/wall" + ("?lang=en" if lang == "en" else ""))
            wall.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#w-kpi-open'))",
                                   timeout=30_000)
            wall.wait_for_timeout(2500)
            bad = wall.evaluate(OVERLAP_JS, [".om-wall .om-title", "#w-focus", "#w-sound", "#w-live", "#w-clock"])
            bad += wall.evaluate(OVERLAP_JS, [".om-wall .om-card", ".om-wall-legend"])
            bad += wall.evaluate(ONE_LINE_JS, [".om-wall .om-title", "#w-clock", "#w-sound", ".om-wall .om-card .k"])
            assert bad == [], ("wall", lang, size, bad)
            sizes = wall.evaluate("() => Array.from(document.querySelectorAll('.om-cluster div'))"
                                  ".map(e => parseFloat(getComputedStyle(e).fontSize))")
            assert sizes and all(s >= 20 for s in sizes), sizes  # cluster numbers readable from five metres
            shot(wall, f"mw_wall_{lang}_{size[0]}")
            assert page.errors == []
            page.context.close()


def test_the_map_saves_as_a_png_with_legend_scale_and_north_arrow(server, browser):  # noqa: F811
    page = login(browser, server)
    page.wait_for_function(MAP_READY, timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('#m-legend .om-legend-row').length > 10", timeout=30_000)
    page.wait_for_timeout(1500)
    with page.expect_download(timeout=20_000) as dl:
        page.click("#m-png")
    path = dl.value.path()
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and dl.value.suggested_filename.startswith("onemap-")
    (SHOTS / "mw_map_export.png").write_bytes(data)
    # what it drew: the map's shapes, not only a background, and the legend box at its corner
    stats = page.evaluate("""async () => {
        const c = await window.onemapExport.render();
        const ctx = c.getContext("2d");
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < px.length; i += 4 * 97) { colours.add(px[i] + "," + px[i + 1] + "," + px[i + 2]); }
        return {w: c.width, h: c.height, colours: colours.size};
    }""")
    box = page.locator("#m-map").bounding_box()
    assert stats["w"] == round(box["width"]) and stats["colours"] > 30, stats
    assert page.errors == []
    page.context.close()


def test_the_analyst_form_speaks_the_ui_language_and_previews_the_count(server, browser, quiet_dsn):  # noqa: F811
    token(quiet_dsn)  # (a report of the other tests may or may not be there: the preview counts what is)
    for lang, category, state, preview in (("zh", "治安隐患", "新上报", "预计导出"), ("en", "Public-order hazard", "New",
                                                                              "features would be exported")):
        page = login(browser, server, "demo-analyst", "onemap-analyst", path="/analyst", lang=lang)
        page.wait_for_selector("#analyst-categories")
        page.locator("#analyst-categories").click()
        page.get_by_role("option", name=category, exact=True).click()
        page.keyboard.press("Escape")
        page.locator("#analyst-states").click()
        page.get_by_role("option", name=state, exact=True).click()
        page.keyboard.press("Escape")
        assert page.get_attribute("#analyst-since", "type") == "text"
        page.fill("#analyst-since", "2026-01-01")
        page.press("#analyst-since", "Enter")
        page.wait_for_function(f"() => document.querySelector('#analyst-preview').innerText.indexOf({preview!r}) >= 0",
                               timeout=15_000)
        page.fill("#analyst-since", "01/02/2026")
        page.press("#analyst-since", "Enter")
        page.wait_for_function("() => document.querySelector('#analyst-preview').innerText.indexOf('YYYY-MM-DD') >= 0",
                               timeout=15_000)
        shot(page, f"mw_analyst_{lang}")
        assert page.errors == []
        page.context.close()


def test_the_wall_raises_an_alert_once_per_incident_and_level(server, browser, quiet_dsn):  # noqa: F811
    wall = login(browser, server, path="/wall")
    wall.wait_for_selector("#w-live.om-live:not(.off)", timeout=30_000)
    wall.wait_for_timeout(1000)
    assert wall.locator(".om-alert").count() == 0
    incident = wall.evaluate(REPORT_JS.replace("return r.status;", "return (await r.json()).id;"),
                             [token(quiet_dsn), 107.4751, 38.1798])
    conn = connect(quiet_dsn)

    def run(*statements):
        with conn, conn.cursor() as cur:
            for q in statements:
                cur.execute(q, {"id": incident})

    try:
        # its deadline passed an hour ago; two actions on it while overdue at the grid level: one alert
        run("UPDATE incident SET due_at = now() - interval '1 hour' WHERE id = %(id)s",
            "SELECT incident_act(%(id)s, 'accept', 'test')")
        wall.wait_for_function("() => document.querySelectorAll('.om-alert').length === 1", timeout=20_000)
        run("SELECT incident_act(%(id)s, 'start', 'test')")
        wall.wait_for_timeout(2000)
        assert wall.locator(".om-alert").count() == 1
        assert "超期" in wall.inner_text(".om-alert")
        # the escalation runner's step for this case (incident_escalate_due would take every overdue case of
        # the shared test county): one more alert, for the next level, and none when it is taken again
        escalate = ("INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level,"
                    " actor, note) SELECT id, region_code, due_at, 'escalate', state, 'accepted', 3, 'system',"
                    " 'deadline missed' FROM incident WHERE id = %(id)s ON CONFLICT DO NOTHING")
        run(escalate)
        wall.wait_for_function("() => document.querySelectorAll('.om-alert').length === 2", timeout=20_000)
        text = wall.inner_text(".om-alert >> nth=0")
        assert "升级" in text and "网格" in text, text
        run(escalate)
    finally:
        conn.close()
    wall.wait_for_timeout(2500)
    assert wall.locator(".om-alert").count() == 2
    shot(wall, "mw_wall_alert")
    assert wall.errors == []
    wall.context.close()
