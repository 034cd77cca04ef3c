"""The /registry page's callbacks, called the way Dash's renderer calls them (a POST per callback):
every one reads the caller from the request and stays inside their jurisdiction."""
from __future__ import annotations

import json
import uuid

import dash
import pytest

from dashboard import registry_page
from data.users import issue_token
from db.core import connect
from web.auth import install_auth

from conftest import scalar


@pytest.fixture(scope="module")
def client(demo_dsn):
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = registry_page.layout("en", "Home")
    registry_page.register(app, demo_dsn)
    install_auth(app.server, demo_dsn, secret_key="test")
    app.server.dash_app = app
    return app.server.test_client()


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = {u: issue_token(conn, u, "test_registry_page") for u in
               ("demo-worker", "demo-leader", "demo-leader-shanghaimiao", "demo-dispatcher")}
    conn.close()
    return out


def _call(client, token, output_ids, trigger, states):
    key = output_ids[0] if len(output_ids) == 1 else next(
        k for k in client.application.dash_app.callback_map if all(f"{i}." in k for i in output_ids))
    outputs = [{"id": i, "property": p} for i, p in (o.split(".") for o in output_ids)]
    body = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [{"id": trigger, "property": "n_clicks", "value": 1}],
            "state": [{"id": i, "property": p, "value": v} for (i, p), v in states],
            "changedPropIds": [f"{trigger}.n_clicks"]}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def _house(client, token, lon, lat, uid=None):
    states = [(("registry-house-uid", "data"), uid or str(uuid.uuid4())),
              (("registry-house-address", "value"), "页面测试1号"), (("registry-house-use", "value"), "residential"),
              (("registry-house-lon", "value"), lon), (("registry-house-lat", "value"), lat),
              (("registry-lang", "data"), "en")]
    return _call(client, token, ["registry-house-message.children", "registry-house-uid.data"],
                 "registry-house-save", states)


def _point(dsn, cell):
    return tuple(scalar(dsn, f"SELECT ST_{a}(ST_PointOnSurface(geom)) FROM grid_unit WHERE code = %s", (cell,))
                 for a in ("X", "Y"))


def test_the_form_saves_inside_the_jurisdiction_and_refuses_outside_it(client, tokens, demo_dsn):
    cell = scalar(demo_dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'")
    other = scalar(demo_dsn, "SELECT code FROM grid_unit WHERE level = 4 AND code <> %s ORDER BY code DESC LIMIT 1",
                   (cell,))
    r = _house(client, tokens["demo-worker"], *_point(demo_dsn, cell))
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "Saved" in text and cell in text
    r = _house(client, tokens["demo-worker"], *_point(demo_dsn, other))
    assert "Not saved" in r.get_data(as_text=True) and "outside your jurisdiction" in r.get_data(as_text=True)
    r = _house(client, tokens["demo-leader"], *_point(demo_dsn, cell))
    assert "Not saved" in r.get_data(as_text=True)
    assert _house(client, None, *_point(demo_dsn, cell)).status_code == 401


def test_summary_counts_follow_the_jurisdiction_and_hide_special_groups_from_leaders(client, tokens, demo_dsn):
    def show(token, unit):
        return _call(client, token, ["registry-summary.children", "registry-message.children"], "registry-show",
                     [(("registry-unit", "value"), unit), (("registry-lang", "data"), "en")])

    r = show(tokens["demo-leader-shanghaimiao"], "150623001")
    assert "outside your jurisdiction" in r.get_data(as_text=True)
    body = json.loads(show(tokens["demo-leader-shanghaimiao"], None).get_data(as_text=True))
    text = json.dumps(body)
    assert "150623002001" in text and "150623001001" not in text
    assert "Special groups" not in text  # leaders do not see special-group membership
    text = show(tokens["demo-dispatcher"], "150623002").get_data(as_text=True)
    assert "Special groups followed up on time" in text


def test_household_members_are_masked_and_only_in_the_jurisdiction(client, tokens, demo_dsn):
    cell = scalar(demo_dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'")
    mine = scalar(demo_dsn, "SELECT household_id FROM reg_person WHERE cell_code = %s AND id_masked IS NOT NULL "
                            "ORDER BY id LIMIT 1", (cell,))
    theirs = scalar(demo_dsn, "SELECT id FROM reg_household WHERE cell_code <> %s LIMIT 1", (cell,))

    def members(token, household):
        return _call(client, token, ["registry-members.children"], "registry-members-show",
                     [(("registry-members-household", "value"), str(household)), (("registry-lang", "data"), "en")])

    text = members(tokens["demo-worker"], mine).get_data(as_text=True)
    masked = scalar(demo_dsn, "SELECT id_masked FROM reg_person WHERE household_id = %s AND id_masked IS NOT NULL "
                              "LIMIT 1", (mine,))
    assert masked in text
    assert "no household" in members(tokens["demo-worker"], theirs).get_data(as_text=True)
    assert "may not" in members(tokens["demo-leader"], mine).get_data(as_text=True) or \
        "minimum necessary" in members(tokens["demo-leader"], mine).get_data(as_text=True)


def test_the_page_in_chromium_shows_the_workers_cell_and_saves_a_house(demo_server, demo_dsn):
    from test_browser import open_page, shot

    from conftest import chromium

    cell = scalar(demo_dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'")
    lon, lat = _point(demo_dsn, cell)
    with chromium() as browser:
        page = open_page(browser, demo_server, "demo-worker", "onemap-worker", "/registry?lang=en")
        page.wait_for_selector("#registry-counts td", timeout=30_000)
        assert cell in page.inner_text("#registry-counts")
        page.fill("#registry-house-address", "浏览器测试路9号")
        page.fill("#registry-house-lon", str(lon))
        page.fill("#registry-house-lat", str(lat))
        page.click("#registry-house-save")
        page.wait_for_selector("#registry-house-message:has-text('Saved')", timeout=15_000)  # (CSP: no eval)
        shot(page, "registry-page")
        assert not page.errors, page.errors
        assert page.hosts == {"127.0.0.1"}
    assert scalar(demo_dsn, "SELECT cell_code FROM reg_house WHERE address = '浏览器测试路9号'") == cell


# Boxes in page coordinates (the page scrolls): none wider than the window, none overlapping another.
LAYOUT_JS = """(groups) => {
    const bad = [];
    groups.forEach(sels => {
        const boxes = [];
        sels.forEach(sel => document.querySelectorAll(sel).forEach(el => {
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.height > 0) {
                boxes.push({sel: sel, l: r.left, r: r.right, t: r.top + scrollY, b: r.bottom + scrollY, el: el});
            }
        }));
        for (let i = 0; i < boxes.length; i++) {
            const a = boxes[i];
            if (a.l < 0 || a.r > window.innerWidth + 0.5) { bad.push("outside " + a.sel); }
            for (let j = i + 1; j < boxes.length; j++) {
                const b = boxes[j];
                if (a.el.contains(b.el) || b.el.contains(a.el)) { continue; }
                if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5) {
                    bad.push(a.sel + " overlaps " + b.sel);
                }
            }
        }
    });
    const lines = [];
    document.querySelectorAll("#registry-page .analyst-label, .registry-save, #registry-back").forEach(el => {
        const lh = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.5;
        if (el.getBoundingClientRect().height > 2 * lh) { lines.push("wraps: " + el.innerText); }
    });
    return bad.concat(lines);
}"""
LAYOUT_GROUPS = [["#registry-back", ".registry-title"], [".registry-form"],
                 [".registry-form .analyst-label", ".registry-form .dash-input-container",
                  ".registry-form .dash-dropdown-wrapper",
                  ".registry-save"]]


def test_the_forms_are_compact_and_nothing_overlaps_at_both_sizes_in_both_languages(demo_server, demo_dsn):
    from test_browser import SHOTS, open_page

    from conftest import chromium

    cell = scalar(demo_dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'")
    lon, lat = _point(demo_dsn, cell)
    with chromium() as browser:
        page = open_page(browser, demo_server, "demo-worker", "onemap-worker", "/")
        page.wait_for_selector("#m-nav-registry", timeout=30_000)
        page.click("#m-nav-registry")  # the map's header links to the registries, and back
        page.wait_for_selector("#registry-org-form", timeout=30_000)
        page.click("#registry-back")
        page.wait_for_selector("#m-nav-registry", timeout=30_000)
        for lang in ("zh", "en"):
            for size in ((1366, 768), (1920, 1080)):
                page.set_viewport_size({"width": size[0], "height": size[1]})
                page.goto(demo_server + f"/registry?lang={lang}")
                page.wait_for_selector("#registry-counts td", timeout=30_000)
                bad = page.evaluate(LAYOUT_JS, LAYOUT_GROUPS)
                assert bad == [], (lang, size, bad)
                widths = page.evaluate("() => Array.from(document.querySelectorAll('.registry-form .dash-input-container'))"
                                       ".map(e => e.getBoundingClientRect().width)")
                assert widths and max(widths) <= 241, widths  # compact, not full width
                color = page.evaluate("() => getComputedStyle(document.querySelector('#registry-org-save'))"
                                      ".backgroundColor")
                assert color == "rgb(42, 157, 143)", color  # the app's button, not the browser's
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"registry_{lang}_{size[0]}.png"), full_page=True)
        # the organisation form saves in the worker's cell, then a staff member of it by its id
        page.fill("#registry-org-name", "浏览器测试合作社")
        page.fill("#registry-org-lon", str(lon))
        page.fill("#registry-org-lat", str(lat))
        page.click("#registry-org-save")
        page.wait_for_selector("#registry-org-message:has-text('Saved')", timeout=15_000)
        org = scalar(demo_dsn, "SELECT id FROM reg_org WHERE name = '浏览器测试合作社'")
        page.fill("#registry-staff-org", str(org))
        page.fill("#registry-staff-name", "<b>测试</b>")
        page.fill("#registry-staff-phone", "13700001111")
        page.click("#registry-staff-save")
        page.wait_for_selector("#registry-staff-message:has-text('Saved')", timeout=15_000)
        page.fill("#registry-place-name", "越界网吧")  # a point in another town: refused, as a message
        page.fill("#registry-place-lon", "0")
        page.fill("#registry-place-lat", "0")
        page.click("#registry-place-save")
        page.wait_for_selector("#registry-place-message:has-text('outside')", timeout=15_000)
        assert not page.errors, page.errors
        assert page.hosts == {"127.0.0.1"}
    assert scalar(demo_dsn, "SELECT cell_code FROM reg_org WHERE id = %s", (org,)) == cell
    assert scalar(demo_dsn, "SELECT phone_masked FROM reg_org_staff WHERE org_id = %s", (org,)) == "137****1111"


# Keeps each Leaflet map the page makes in window.__omMaps (dash-leaflet assigns window.L), so the
# test can move the map to a house as a user would by zooming there.
CAPTURE_MAPS = """(() => { let l; Object.defineProperty(window, "L", {configurable: true, get() { return l; },
    set(v) { l = v; if (v && v.Map && !v.Map.__om) { v.Map.__om = true;
        v.Map.addInitHook(function () { (window.__omMaps = window.__omMaps || []).push(this); }); } } }); })();"""
LIVE_MAP = "(window.__omMaps || []).filter(m => m._container && m._container.isConnected).pop()"
HOUSE_SHAPES = """() => Array.from(document.querySelectorAll('.leaflet-pane-houses-pane path'))
    .map(e => e.getBoundingClientRect().width)"""


def test_the_houses_layer_draws_counts_far_out_and_footprints_close_in(demo_server, demo_dsn):
    from conftest import chromium

    cell = scalar(demo_dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'")
    found = scalar(demo_dsn, "SELECT array[ST_X(ST_Centroid(footprint)), ST_Y(ST_Centroid(footprint))] FROM reg_house "
                             "WHERE cell_code = %s AND footprint IS NOT NULL ORDER BY id LIMIT 1", (cell,))
    if found is None:  # the seed gave this cell none: one like the demo's, around a house's point
        conn = connect(demo_dsn)
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE reg_house SET footprint = ST_Expand(geom, 0.00006) WHERE id = (SELECT min(id) FROM "
                        "reg_house WHERE cell_code = %s) RETURNING ST_X(geom), ST_Y(geom)", (cell,))
            found = list(cur.fetchone())
        conn.close()
    lon, lat = found
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.add_init_script(CAPTURE_MAPS)
        page.goto(demo_server + "/login")
        page.fill("#username", "demo-worker")
        page.fill("#password", "onemap-worker")
        page.click("button[type=submit]")
        page.wait_for_url(demo_server + "/", timeout=15_000)
        page.wait_for_function(f"() => {LIVE_MAP} !== undefined", timeout=30_000)
        page.wait_for_function("() => (e => e && e.innerText !== '–')(document.querySelector('#m-kpi-open'))",
                               timeout=30_000)
        # the page has settled: its first view (the worker's cell) is applied and the map's flight
        # there is over (the zoom held still across a poll). A view set while that flight or its
        # callback was still on its way was overridden by it: the zoom asked for never reached a URL.
        page.wait_for_selector("#m-crumbs button.current", timeout=30_000)
        page.wait_for_function(f"""() => {{ const z = {LIVE_MAP}.getZoom(), was = window.__omZoom;
                                   window.__omZoom = z; return was === z; }}""", polling=700, timeout=30_000)

        def go(zoom):  # as a user zooming there; the layer refetches for the new view
            with page.expect_response(lambda r: "/layers/houses." in r.url and f"zoom={zoom}&" in r.url,
                                      timeout=15_000):
                page.evaluate(f"([lat, lon, z]) => {LIVE_MAP}.setView([lat, lon], z, {{animate: false}})",
                              [lat, lon, zoom])

        with page.expect_response(lambda r: "/layers/houses." in r.url, timeout=15_000):
            page.locator("#m-layers input[value='houses']").check()  # off by default: fetched once on
        go(11)
        page.wait_for_selector(".leaflet-pane-houses-pane .om-cluster-house", timeout=15_000)
        go(18)
        page.wait_for_function(f"() => ({HOUSE_SHAPES})().some(w => w >= 14)", timeout=15_000)
        assert page.locator(".leaflet-pane-houses-pane .om-cluster-house").count() == 0
        go(14)
        page.wait_for_function(f"() => {{ const w = ({HOUSE_SHAPES})(); return w.length && w.every(x => x < 12); }}",
                               timeout=15_000)  # points again, no outlines
        assert not page.errors, page.errors
