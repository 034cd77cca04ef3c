"""The routing API over HTTP: status codes, shapes, and jurisdiction."""
from __future__ import annotations

import uuid

import pytest

from app import Settings, create_app
from data.users import issue_token
from db.core import connect

USERS = ["demo-admin", "demo-dispatcher", "demo-leader-shanghaimiao", "demo-analyst"]


@pytest.fixture(scope="module")
def client(demo_dsn):
    app = create_app(Settings(dsn=demo_dsn))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    out = {u: issue_token(conn, u, f"routing-test-{uuid.uuid4().hex[:6]}") for u in USERS}
    conn.commit()
    conn.close()
    return out


@pytest.fixture(scope="module")
def places(demo_dsn):
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM incident WHERE cell_code LIKE '150623001%' ORDER BY id LIMIT 1")
        seat_incident = cur.fetchone()[0]
        cur.execute("SELECT id FROM incident WHERE cell_code LIKE '150623002%' ORDER BY id LIMIT 1")
        shm_incident = cur.fetchone()[0]
        cur.execute("SELECT id FROM facility WHERE kind = 'police_station' ORDER BY id LIMIT 1")
        station = cur.fetchone()[0]
    conn.close()
    return {"seat": seat_incident, "shm": shm_incident, "station": station}


def get(client, tokens, user, path):
    return client.get(path, headers={"Authorization": f"Bearer {tokens[user]}"})


def test_needs_a_token(client, places):
    assert client.get("/api/v1/routes?from=107.47,38.18&to=107.5,38.2").status_code == 401
    assert client.get(f"/api/v1/incidents/{places['seat']}/responders").status_code == 401


def test_route_between_points_and_to_an_incident(client, tokens, places):
    r = get(client, tokens, "demo-dispatcher", "/api/v1/routes?from=107.47,38.18&to=107.52,38.16")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["type"] == "Feature" and body["geometry"]["type"] == "LineString"
    assert {"length_m", "travel_s", "total_s", "steps", "from", "to"} <= set(body["properties"])
    r = get(client, tokens, "demo-dispatcher",
            f"/api/v1/incidents/{places['seat']}/route?from=facility:{places['station']}")
    assert r.status_code == 200 and r.get_json()["properties"]["to"]["kind"] == "incident"
    r = get(client, tokens, "demo-dispatcher", "/api/v1/routes?from=department:150623-public_security"
            f"&to=incident:{places['seat']}")
    assert r.status_code == 200


@pytest.mark.parametrize("query, status", [
    ("from=abc&to=107.5,38.2", 422),
    ("to=107.5,38.2", 422),
    ("from=107.47,38.18&to=incident:not-a-uuid", 422),
    ("from=facility:99999999&to=107.5,38.2", 404),
    ("from=department:nope&to=107.5,38.2", 404),
    ("from=worker:99999999&to=107.5,38.2", 404),
    (f"from=107.47,38.18&to=incident:{uuid.UUID(int=1)}", 404),
    ("from=120.0,30.0&to=107.5,38.2", 422),  # Hangzhou: no road within reach
])
def test_bad_requests(client, tokens, query, status):
    r = get(client, tokens, "demo-dispatcher", f"/api/v1/routes?{query}")
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] in ("invalid", "not_found")


def test_town_leader_cannot_route_to_another_towns_incident(client, tokens, places):
    user = "demo-leader-shanghaimiao"
    assert get(client, tokens, user, f"/api/v1/incidents/{places['seat']}/route?from=107.0,38.3").status_code == 404
    assert get(client, tokens, user, f"/api/v1/routes?from=107.0,38.3&to=incident:{places['seat']}").status_code == 404
    assert get(client, tokens, user, f"/api/v1/incidents/{places['seat']}/responders").status_code == 404
    assert get(client, tokens, user, f"/api/v1/incidents/{places['shm']}/route?from=107.0,38.3").status_code == 200


def test_responders(client, tokens, places):
    r = get(client, tokens, "demo-dispatcher", f"/api/v1/incidents/{places['seat']}/responders?limit=5")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert 0 < len(items) <= 5 and [i["total_s"] for i in items] == sorted(i["total_s"] for i in items)
    assert get(client, tokens, "demo-dispatcher",
               f"/api/v1/incidents/{places['seat']}/responders?limit=0").status_code == 422


def test_isochrones_and_coverage_in_jurisdiction(client, tokens):
    r = get(client, tokens, "demo-analyst", "/api/v1/isochrones?kind=police_station&minutes=10")
    assert r.status_code == 200 and r.get_json()["geometry"]["type"] == "MultiPolygon"
    whole = r.get_json()["properties"]["area_km2"]
    r = get(client, tokens, "demo-leader-shanghaimiao", "/api/v1/isochrones?kind=police_station&minutes=10")
    assert r.status_code == 200 and r.get_json()["properties"]["area_km2"] < whole
    assert get(client, tokens, "demo-analyst", "/api/v1/isochrones?kind=spaceport").status_code == 422
    assert get(client, tokens, "demo-analyst", "/api/v1/isochrones?minutes=0").status_code == 422

    cov = get(client, tokens, "demo-leader-shanghaimiao", "/api/v1/coverage").get_json()
    assert cov["cells"] and all(c["code"].startswith("150623002") for c in cov["cells"])
    assert 0 <= cov["kpi"]["share"] <= 1
    gaps = get(client, tokens, "demo-leader-shanghaimiao", "/api/v1/coverage/gaps").get_json()
    assert gaps["type"] == "FeatureCollection"
    assert all(f["id"].startswith("150623002") and f["properties"]["share"] < 0.8 for f in gaps["features"])
    sug = get(client, tokens, "demo-leader-shanghaimiao", "/api/v1/coverage/suggest?kind=governance_centre")
    assert sug.status_code == 200
    body = sug.get_json()
    assert body["picks"] and all(set(p["cells"]) and all(c.startswith("150623002") for c in p["cells"])
                                 for p in body["picks"])
