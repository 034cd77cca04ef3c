"""Background exports over HTTP: count first, start a job, poll its progress, fetch the file."""
from __future__ import annotations

import subprocess
import time

import pytest
import requests

from data.users import issue_token
from db.core import connect


@pytest.fixture(scope="module")
def server(demo_server):
    return demo_server


@pytest.fixture(scope="module")
def auth(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = {u: {"Authorization": "Bearer " + issue_token(conn, u, "test_export_api")}
               for u in ("demo-leader-shanghaimiao", "demo-analyst", "demo-worker")}
    conn.close()
    return out


def test_count_then_background_job_then_download(server, auth, tmp_path):
    body = {"layers": ["incidents", "cells"], "format": "gpkg", "crs": "EPSG:4545"}
    plan = requests.post(server + "/api/exports/plan", json=body, headers=auth["demo-leader-shanghaimiao"]).json()
    assert plan["counts"]["cells"] == 83 and plan["total"] == sum(plan["counts"].values())
    r = requests.post(server + "/api/exports", json=body, headers=auth["demo-leader-shanghaimiao"])
    assert r.status_code == 202
    url = server + r.json()["status_url"]
    deadline = time.monotonic() + 120  # a wait, not a timing assertion
    while (job := requests.get(url, headers=auth["demo-leader-shanghaimiao"]).json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["state"] == "done" and job["done"] == plan["total"]
    # only the owner sees the job or its file
    assert requests.get(url, headers=auth["demo-analyst"]).status_code == 404
    assert requests.get(server + job["file_url"], headers=auth["demo-analyst"]).status_code == 404
    got = requests.get(server + job["file_url"], headers=auth["demo-leader-shanghaimiao"])
    assert got.status_code == 200
    path = tmp_path / "dl.gpkg"
    path.write_bytes(got.content)
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True).stdout
    assert f"Feature Count: {plan['counts']['incidents']}" in info and 'ID["EPSG",4545]' in info


@pytest.mark.parametrize("body, status", [
    ({"layers": ["nope"]}, 404),
    ({"layers": ["incidents"], "format": "xlsx"}, 400),
    ({"layers": ["incidents"], "crs": "EPSG:3857"}, 400),
    ({"layers": ["incidents"], "bbox": [1, 2]}, 400),
    ({"layers": ["incidents"], "since": "2030-01-01"}, 422),
    ({"layers": ["incidents"], "unit": "150623001"}, 403),
    ({"layers": "incidents", "states": "open", "since": "not a date"}, 400),
    ({"layers": ["incidents"], "categories": "草原牧场"}, 400),
    ({"layers": ["incidents"], "states": "nosuch"}, 400),
])
def test_bad_export_requests_are_json_4xx(server, auth, body, status):
    r = requests.post(server + "/api/exports", json=body, headers=auth["demo-leader-shanghaimiao"])
    assert r.status_code == status and r.json()["error"]["message"]


def test_grid_workers_and_strangers_cannot_export(server, auth):
    body = {"layers": ["incidents"]}
    assert requests.post(server + "/api/exports/plan", json=body, headers=auth["demo-worker"]).status_code == 403
    assert requests.post(server + "/api/exports/plan", json=body).status_code == 401


def test_unknown_filter_values_are_named_and_category_names_work(server, auth):
    h = auth["demo-leader-shanghaimiao"]
    r = requests.post(server + "/api/exports/plan", json={"layers": ["incidents"], "categories": "草原牧场,nosuch"},
                      headers=h)
    assert r.status_code == 400 and "unknown category '草原牧场', 'nosuch'" in r.json()["error"]["message"]
    r = requests.post(server + "/api/exports/plan", json={"layers": ["incidents"], "states": "nosuch"}, headers=h)
    assert r.status_code == 400 and "unknown state 'nosuch'" in r.json()["error"]["message"]
    by_code = requests.post(server + "/api/exports/plan", json={"layers": ["incidents"],
                                                                "categories": "grassland_dispute"}, headers=h).json()
    by_name = requests.post(server + "/api/exports/plan", json={"layers": ["incidents"],
                                                                "categories": "草原牧场纠纷"}, headers=h).json()
    assert by_code["counts"] == by_name["counts"]
