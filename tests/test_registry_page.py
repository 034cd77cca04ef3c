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
