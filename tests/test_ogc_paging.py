"""OGC API keyset paging, cheap numberMatched and the /ogc/api document, read by GDAL's OAPIF
driver (ogrinfo/ogr2ogr) from the real app: counts, copies and deep pages checked against SQL."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess

import pytest
import requests

from data.users import issue_token
from db.core import connect
from layers import registry
from layers.base import LayerError, Query, parse_key

TOWN = "150623002"
BOX = (107.0, 38.0, 107.6, 38.5)
ANALYST = ("demo-analyst", "onemap-analyst")
LEADER = ("demo-leader-shanghaimiao", "onemap-leader")


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = {u: issue_token(conn, u, "test_ogc_paging") for u in (ANALYST[0], LEADER[0])}
    conn.close()
    return out


def _ids(dsn: str, where: str = "true", params=()) -> list[str]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id::text FROM incident WHERE {where} ORDER BY id", params)
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def _gdal(tool: str, args: list[str], **env) -> subprocess.CompletedProcess:
    """A GDAL command with HTTP debugging on: every request it makes is a ``Fetch(`` line on stderr."""
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "ON", **env})


def _fetches(stderr: str) -> list[str]:
    return re.findall(r"HTTP: Fetch\((.*?)\)\s*$", stderr, flags=re.M)


def _walk(url: str, headers: dict, params: dict) -> list[dict]:
    """Every page of a collection, following the `next` links."""
    pages, r = [], requests.get(url, headers=headers, params=params)
    while True:
        assert r.status_code == 200, r.text
        pages.append(r.json())
        nxt = [link["href"] for link in pages[-1]["links"] if link["rel"] == "next"]
        if not nxt:
            return pages
        r = requests.get(nxt[0], headers=headers)


def test_api_document_is_read_with_the_same_credentials(demo_server, tokens):
    for auth in ({"headers": {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}}, {"auth": ANALYST}):
        r = requests.get(demo_server + "/ogc/api", **auth)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
        doc = r.json()
        assert doc["openapi"].startswith("3.0")
        for name in registry.LAYERS:
            params = {p["name"]: p for p in doc["paths"][f"/collections/{name}/items"]["get"]["parameters"]}
            assert params["limit"]["schema"]["maximum"] == 10_000 and params["limit"]["schema"]["default"] == 100
            assert "hits" in params["resultType"]["schema"]["enum"] and "after" in params
            assert f"/collections/{name}/items/{{featureId}}" in doc["paths"]
        assert {"bearer", "basic"} <= set(doc["components"]["securitySchemes"])
    assert requests.get(demo_server + "/ogc/api", headers={"Accept": "application/json"}).status_code == 401
    assert requests.get(demo_server + "/ogc/api", auth=(ANALYST[0], "wrong")).status_code == 401
    landing = requests.get(demo_server + "/ogc/", auth=ANALYST).json()
    desc = [link for link in landing["links"] if link["rel"] == "service-desc"]
    assert desc and desc[0]["href"].endswith("/ogc/api") and "openapi" in desc[0]["type"]


def test_api_document_is_valid_openapi(demo_server):
    from openapi_spec_validator import validate

    validate(requests.get(demo_server + "/ogc/api", auth=ANALYST).json())


def test_keyset_pages_equal_the_offset_pages_and_sql(demo_server, tokens, demo_dsn):
    h = {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}
    url = demo_server + "/ogc/collections/incidents/items"
    want = _ids(demo_dsn)
    assert len(want) > 1000
    pages = _walk(url, h, {"limit": 97})
    got = [f["id"] for p in pages for f in p["features"]]
    assert got == want  # every row once, in id order: no duplicate, no gap
    assert pages[0]["numberMatched"] == len(want)  # cheap here (under the cap): given on page 1
    assert all("numberMatched" not in p for p in pages[1:-1])  # deeper keyset pages skip the count
    assert all("after=" in link["href"] for p in pages[:-1] for link in p["links"] if link["rel"] == "next")
    offset_pages = [requests.get(url, headers=h, params={"limit": 97, "offset": o}).json()
                    for o in range(0, len(want), 97)]
    assert [f["id"] for p in offset_pages for f in p["features"]] == got  # the old path, same rows
    deep = requests.get(url, headers=h, params={"limit": 50, "after": want[2500]}).json()
    assert [f["id"] for f in deep["features"]] == want[2501:2551]
    last = requests.get(url, headers=h, params={"limit": 50, "after": want[-2]}).json()
    assert [f["id"] for f in last["features"]] == want[-1:]
    assert not [link for link in last["links"] if link["rel"] == "next"]


def test_keyset_pages_keep_filters_and_the_jurisdiction(demo_server, tokens, demo_dsn):
    h = {"Authorization": f"Bearer {tokens[LEADER[0]]}"}
    url = demo_server + "/ogc/collections/incidents/items"
    want = _ids(demo_dsn, "cell_code LIKE %s", (TOWN + "%",))
    pages = _walk(url, h, {"limit": 40})
    assert [f["id"] for p in pages for f in p["features"]] == want
    assert all(f["properties"]["cell_code"].startswith(TOWN) for p in pages for f in p["features"])
    # a key from outside the town pages on inside it: the key orders, it does not widen the scope
    outside = _ids(demo_dsn, "cell_code NOT LIKE %s", (TOWN + "%",))[0]
    after = requests.get(url, headers=h, params={"after": outside, "limit": 5000}).json()
    assert [f["id"] for f in after["features"]] == [i for i in want if i > outside]
    # filters ride along in the next links
    analyst = {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}
    bbox = ",".join(map(str, BOX))
    pages = _walk(url, analyst, {"limit": 25, "bbox": bbox, "datetime": "2026-01-01/.."})
    want = _ids(demo_dsn, "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND received_at >= %s",
                (*BOX, "2026-01-01T00:00:00+08:00"))
    assert [f["id"] for p in pages for f in p["features"]] == want and len(pages) > 1


def test_offset_pages_seek_a_key_within_filters_and_the_jurisdiction(demo_server, tokens, demo_dsn):
    """An offset is turned into the key of the row before it (layers.base.key_at), then the page is
    a keyset page: the same rows as the offset over the filtered, jurisdiction-bound rows."""
    url = demo_server + "/ogc/collections/incidents/items"
    leader = {"Authorization": f"Bearer {tokens[LEADER[0]]}"}
    want = _ids(demo_dsn, "cell_code LIKE %s", (TOWN + "%",))
    for offset in (1, 39, 40, len(want) // 2, len(want) - 3):
        got = requests.get(url, headers=leader, params={"limit": 40, "offset": offset}).json()
        assert [f["id"] for f in got["features"]] == want[offset:offset + 40], offset
    past = requests.get(url, headers=leader, params={"limit": 40, "offset": len(want) + 5})
    assert past.status_code == 200 and past.json()["features"] == []
    analyst = {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}
    box = {"bbox": ",".join(map(str, BOX)), "datetime": "2026-01-01/.."}
    want = _ids(demo_dsn, "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND received_at >= %s",
                (*BOX, "2026-01-01T00:00:00+08:00"))
    got = requests.get(url, headers=analyst, params={"limit": 25, "offset": 30, **box}).json()
    assert [f["id"] for f in got["features"]] == want[30:55] and len(want) > 55


def test_hits_and_bad_paging_input(demo_server, tokens, demo_dsn):
    h = {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}
    url = demo_server + "/ogc/collections/incidents/items"
    body = requests.get(url, headers=h, params={"resultType": "hits", "bbox": ",".join(map(str, BOX))}).json()
    assert body["features"] == [] and body["numberReturned"] == 0
    assert body["numberMatched"] == len(_ids(demo_dsn, "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", BOX))
    for params in ({"after": "not-a-uuid"}, {"after": "x" * 5000}, {"resultType": "everything"},
                   {"limit": 10_001}, {"offset": -1}):
        r = requests.get(url, headers=h, params=params)
        assert r.status_code == 400, params
        assert r.json()["description"]


def test_number_matched_is_omitted_beyond_the_count_cap(demo_dsn):
    from data.users import Actor

    analyst = Actor(user_id=None, username="t", role="analyst", unit_code="150623", region_code="150623")
    layer = registry.get("incidents")
    total = len(_ids(demo_dsn))
    conn = connect(demo_dsn)
    try:
        rows, matched, more = registry.keyset_page(conn, layer, analyst, Query(), 10, count_cap=100)
        assert len(rows) == 10 and more and matched is None  # more than 100 match: not counted
        rows, matched, more = registry.keyset_page(conn, layer, analyst, Query(), 10, count_cap=total)
        assert matched == total
        rows, matched, more = registry.keyset_page(conn, layer, analyst, Query(), 10, count_cap=None,
                                                   after=rows[-1][0])
        assert matched == total and rows[0][0] > rows[-1][0] or len(rows) == 10
    finally:
        conn.rollback()
        conn.close()
    with pytest.raises(LayerError):
        parse_key(layer, "1; DROP TABLE incident")


def test_gdal_counts_a_bbox_in_one_request(demo_server, demo_dsn):
    want = len(_ids(demo_dsn, "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", BOX))
    assert want > 0
    out = _gdal("ogrinfo", ["-ro", "-so", "-spat", *map(str, BOX), f"OAPIF:{demo_server}/ogc", "incidents"],
                GDAL_HTTP_AUTH="BASIC", GDAL_HTTP_USERPWD=":".join(ANALYST))
    assert out.returncode == 0, out.stderr
    assert f"Feature Count: {want}" in out.stdout
    items = [u for u in _fetches(out.stderr) if "/items" in u]
    assert any("resultType=hits" in u for u in items)  # read from /ogc/api: the count is one request
    assert len(items) <= 2, items  # the schema page and the hits request; no paging through features


def test_gdal_copies_every_incident_in_large_pages(demo_server, tokens, demo_dsn, tmp_path):
    want = _ids(demo_dsn)
    out_file = tmp_path / "copy.gpkg"
    out = _gdal("ogr2ogr", ["-f", "GPKG", str(out_file), f"OAPIF:{demo_server}/ogc", "incidents",
                            "-oo", "PAGE_SIZE=1000"],
                GDAL_HTTP_HEADERS=f"Authorization: Bearer {tokens[ANALYST[0]]}")
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(out_file)
    got = [r[0] for r in db.execute('SELECT "id" FROM incidents ORDER BY fid')]
    db.close()
    assert got == want  # all of the collection, each once, in key order
    pages = [u for u in _fetches(out.stderr) if "/items" in u]
    assert all("limit=1000" in u for u in pages)
    assert len(pages) <= -(-len(want) // 1000) + 2, pages  # the schema page + one request per 1,000


@pytest.mark.parametrize("role", ["analyst", "admin", "leader"])
def test_features_built_by_postgres_equal_the_python_ones(demo_dsn, role):
    import json

    from api.ogc import _feature
    from data.users import Actor

    unit = TOWN if role == "leader" else "150623"
    who = Actor(user_id=None, username="t", role=role, unit_code=unit, region_code="150623")
    conn = connect(demo_dsn)
    try:
        for name, layer in registry.LAYERS.items():
            try:
                old, _, _ = registry.keyset_page(conn, layer, who, Query(), 400)
            except LayerError:  # a layer this role does not see: refused the same way below
                with pytest.raises(LayerError):
                    registry.keyset_page(conn, layer, who, Query(), 400, feature_tz="Asia/Shanghai")
                continue
            new, _, _ = registry.keyset_page(conn, layer, who, Query(), 400, feature_tz="Asia/Shanghai")
            assert [r[0] for r in new] == [r[0] for r in old], name
            assert [json.loads(r[1]) for r in new] == [json.loads(_feature(layer, r, "Asia/Shanghai")) for r in old], name
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("name", ["villages", "cells", "facilities", "roads"])
def test_small_layers_page_on_their_feature_id(demo_server, tokens, name):
    h = {"Authorization": f"Bearer {tokens[ANALYST[0]]}"}
    url = f"{demo_server}/ogc/collections/{name}/items"
    whole = requests.get(url, headers=h, params={"limit": 10_000}).json()
    assert whole["numberMatched"] == whole["numberReturned"] > 20
    pages = _walk(url, h, {"limit": 7})
    assert [f["id"] for p in pages for f in p["features"]] == [f["id"] for f in whole["features"]]
