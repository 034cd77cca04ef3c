"""OGC API – Features at /ogc, read by GDAL's OAPIF driver from the real app served by waitress."""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import requests

from data.users import issue_token
from db.core import connect

from conftest import scalar as _scalar

TOWN = "150623002"


@pytest.fixture(scope="module")
def server(demo_server):
    return demo_server


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = {u: issue_token(conn, u, "test_ogc") for u in ("demo-leader-shanghaimiao", "demo-analyst", "demo-admin")}
    conn.close()
    return out




def _ogrinfo(args, **env):
    return subprocess.run(["ogrinfo", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "GDAL_HTTP_TIMEOUT": "60", **env})


def test_gdal_reads_a_town_leaders_incidents_page_by_page_with_a_bearer_token(server, tokens, demo_dsn):
    want = _scalar(demo_dsn, "SELECT count(*) FROM incident WHERE cell_code LIKE %s", (TOWN + "%",))
    assert 0 < want < 3000
    out = _ogrinfo(["-ro", "-q", "-oo", "PAGE_SIZE=100", f"OAPIF:{server}/ogc", "incidents"],
                   GDAL_HTTP_HEADERS=f"Authorization: Bearer {tokens['demo-leader-shanghaimiao']}")
    assert out.returncode == 0, out.stderr
    cells = re.findall(r"cell_code \(String\) = (\d+)", out.stdout)
    assert len(cells) == want  # every page followed through the `next` links
    assert all(c.startswith(TOWN) for c in cells)


def test_gdal_lists_collections_with_basic_auth(server, demo_dsn):
    out = _ogrinfo(["-ro", "-so", f"OAPIF:{server}/ogc", "towns"], GDAL_HTTP_AUTH="BASIC",
                   GDAL_HTTP_USERPWD="demo-leader-shanghaimiao:onemap-leader")
    assert out.returncode == 0, out.stderr
    assert "Feature Count: 1" in out.stdout  # the leader's own town only
    listing = _ogrinfo(["-ro", "-q", f"OAPIF:{server}/ogc"], GDAL_HTTP_AUTH="BASIC",
                       GDAL_HTTP_USERPWD="demo-leader-shanghaimiao:onemap-leader")
    for name in ("incidents", "cells", "heat_cells", "worker_positions", "roads"):
        assert name in listing.stdout


def test_wrong_basic_password_is_401(server):
    r = requests.get(server + "/ogc/collections", auth=("demo-analyst", "wrong-password"))
    assert r.status_code == 401


def test_items_filter_by_property_bbox_and_datetime(server, tokens):
    h = {"Authorization": f"Bearer {tokens['demo-analyst']}"}
    r = requests.get(server + "/ogc/collections/incidents/items", headers=h,
                     params={"state": "open", "limit": 5000})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/geo+json")
    states = {f["properties"]["state"] for f in r.json()["features"]}
    assert states and states <= {"new", "accepted", "dispatched", "in_progress", "on_site"}
    body = requests.get(server + "/ogc/collections/incidents/items", headers=h, params={
        "bbox": "107.0,38.0,107.6,38.5", "datetime": "2026-06-01T00:00:00+08:00/..", "limit": 5000}).json()
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 107.0 <= lon <= 107.6 and 38.0 <= lat <= 38.5
        assert f["properties"]["received_at"] >= "2026-05-31T16:00"
        assert f["properties"]["description"] is None  # personal free text: masked for analysts
    one = body["features"][0]
    got = requests.get(f"{server}/ogc/collections/incidents/items/{one['id']}", headers=h).json()
    assert got["id"] == one["id"] and got["properties"] == one["properties"]


def test_worker_names_are_masked_for_analysts_and_audited(server, tokens, demo_dsn):
    before = _scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE action = 'ogc_items'")
    params = {"datetime": "2026-06-14T00:00:00Z/2026-06-15T10:30:00Z", "limit": 1000}
    masked = requests.get(server + "/ogc/collections/worker_positions/items", params=params,
                          headers={"Authorization": f"Bearer {tokens['demo-analyst']}"}).json()
    plain = requests.get(server + "/ogc/collections/worker_positions/items", params=params,
                         headers={"Authorization": f"Bearer {tokens['demo-admin']}"}).json()
    assert masked["numberReturned"] > 0 and masked["numberReturned"] == plain["numberReturned"]
    for f in masked["features"]:
        assert "*" in f["properties"]["worker_name"] and "****" in (f["properties"]["phone"] or "****")
    assert not any("*" in f["properties"]["worker_name"] for f in plain["features"])
    assert _scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE action = 'ogc_items'") == before + 2


def test_bad_input_is_a_clear_json_4xx(server, tokens):
    h = {"Authorization": f"Bearer {tokens['demo-analyst']}"}
    cases = {"/ogc/collections/nope/items": 404,
             "/ogc/collections/incidents/items?bbox=1,2": 400,
             "/ogc/collections/incidents/items?bbox=108,38,107,39": 400,
             "/ogc/collections/incidents/items?no_such_field=1": 400,
             "/ogc/collections/incidents/items?limit=0": 400,
             "/ogc/collections/roads/items?datetime=2026-01-01": 400,
             "/ogc/collections/incidents/items?datetime=yesterday": 400,
             "/ogc/collections/incidents/items/not-a-feature": 404}
    for path, status in cases.items():
        r = requests.get(server + path, headers=h)
        assert r.status_code == status, path
        assert r.json()["description"], path
    r = requests.get(server + "/ogc/collections", headers={"Accept": "application/json",
                                                          "Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_landing_and_conformance(server, tokens):
    h = {"Authorization": f"Bearer {tokens['demo-analyst']}"}
    landing = requests.get(server + "/ogc/", headers=h).json()
    assert {link["rel"] for link in landing["links"]} >= {"self", "conformance", "data"}
    conf = requests.get(server + "/ogc/conformance", headers=h).json()
    assert any(c.endswith("/conf/geojson") for c in conf["conformsTo"])
    json.dumps(landing)
