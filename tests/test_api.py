"""The field-app REST API over HTTP: reports, reads, actions, photos, positions, roles × jurisdiction."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from api.v1 import RateLimiter
from app import Settings, create_app
from data.users import issue_token
from db.core import connect

SEAT = (107.4751, 38.1798)          # banner seat, in 敖勒召其镇 150623001
SHANGHAIMIAO = (106.95, 38.30)      # in 上海庙镇 150623002
USERS = ["demo-admin", "demo-dispatcher", "demo-leader", "demo-analyst", "demo-department",
         "demo-worker", "demo-leader-shanghaimiao"]


@pytest.fixture(scope="module")
def client(quiet_dsn):
    app = create_app(Settings(dsn=quiet_dsn))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def tokens(quiet_dsn):
    conn = connect(quiet_dsn)
    out = {u: issue_token(conn, u, f"api-test-{uuid.uuid4().hex[:6]}") for u in USERS}
    conn.commit()
    conn.close()
    return out


@pytest.fixture(scope="module")
def home(quiet_dsn):
    """A point inside the demo worker's own cell (a worker's jurisdiction), and that cell."""
    conn = connect(quiet_dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p), u.code FROM app_user a JOIN grid_unit u ON u.code = a.unit_code,
                       LATERAL ST_PointOnSurface(u.geom) p WHERE a.username = 'demo-worker'""")
        lon, lat, cell = cur.fetchone()
    conn.close()
    return {"lon": lon, "lat": lat, "cell": cell}


def auth(tokens, user):
    return {"Authorization": f"Bearer {tokens[user]}"}


def report_body(lon=SEAT[0], lat=SEAT[1], **kw):
    now = datetime.now(timezone.utc)
    return {"id": str(uuid.uuid4()), "category": "public_order", "description": "路灯损坏",
            "lon": lon, "lat": lat, "observed_at": (now - timedelta(minutes=3)).isoformat(), **kw}


def post(client, tokens, user, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=auth(tokens, user))


def test_openapi_document_is_public_and_complete(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/incidents", "/api/v1/incidents/{incident_id}",
            "/api/v1/incidents/{incident_id}/actions/{action}", "/api/v1/positions"} <= set(doc["paths"])


def test_no_token_is_401_json(client):
    r = client.get("/api/v1/incidents")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/incidents", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


def test_report_retry_and_reuse(client, tokens, home):
    body = report_body(lon=home["lon"], lat=home["lat"])
    first = post(client, tokens, "demo-worker", "/api/v1/incidents", body)
    assert first.status_code == 201, first.get_json()
    item = first.get_json()
    assert item["state"] == "new" and item["cell_code"] == home["cell"]
    again = post(client, tokens, "demo-worker", "/api/v1/incidents", body)
    assert again.status_code == 200 and again.get_json() == item
    reused = post(client, tokens, "demo-worker", "/api/v1/incidents", {**body, "category": "fire_hazard"})
    assert reused.status_code == 422 and "id" in reused.get_json()["error"]["fields"]


@pytest.mark.parametrize("raw, status, field", [
    (b"{not json", 400, None),
    (b'{"lon": NaN}', 400, None),
    (json.dumps({**report_body(), "lon": "107.4"}).encode(), 422, "lon"),
    (json.dumps({**report_body(), "lat": 123}).encode(), 422, "lat"),
    (json.dumps({**report_body(), "category": "nope"}).encode(), 422, "category"),
    (json.dumps([1, 2]).encode(), 422, None),
    (json.dumps({**report_body(), "description": "x" * 2_000_000}).encode(), 413, None),
])
def test_bad_reports_are_4xx_with_fields(client, tokens, raw, status, field):
    r = client.post("/api/v1/incidents", data=raw, content_type="application/json",
                    headers=auth(tokens, "demo-worker"))
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    err = r.get_json()["error"]
    if field:
        assert field in err["fields"]


def test_outside_the_county_is_422_with_distance(client, tokens):
    r = post(client, tokens, "demo-worker", "/api/v1/incidents", report_body(lon=106.27, lat=38.47))
    assert r.status_code == 422
    assert r.get_json()["error"]["outside_m"] > 10_000


def test_actions_follow_the_state_machine(client, tokens):
    item = post(client, tokens, "demo-worker", "/api/v1/incidents", report_body()).get_json()
    url = f"/api/v1/incidents/{item['id']}/actions"
    r = post(client, tokens, "demo-dispatcher", f"{url}/close", {})
    assert r.status_code == 409
    assert r.get_json()["error"]["allowed"] == ["accept", "dispatch", "escalate", "reject"]
    r = post(client, tokens, "demo-dispatcher", f"{url}/dispatch", {"note": "请派出所核查"})
    assert r.status_code == 200 and r.get_json()["department_code"] == "150623-public_security"
    r = post(client, tokens, "demo-department", f"{url}/arrive", {"lon": SEAT[0], "lat": SEAT[1]})
    assert r.status_code == 200 and r.get_json()["state"] == "on_site"
    r = post(client, tokens, "demo-department", f"{url}/resolve", {"note": "已修复"})
    assert r.get_json()["solved_level"] == 4
    assert post(client, tokens, "demo-analyst", f"{url}/verify", {}).status_code == 403
    assert post(client, tokens, "demo-dispatcher", f"{url}/verify", {}).status_code == 200
    done = post(client, tokens, "demo-dispatcher", f"{url}/close", {}).get_json()
    assert [e["action"] for e in done["timeline"]] == ["report", "dispatch", "arrive", "resolve", "verify", "close"]
    assert post(client, tokens, "demo-dispatcher", f"{url}/fly", {}).status_code == 422
    assert post(client, tokens, "demo-dispatcher", f"{url}/accept", {"lon": 1}).status_code == 422


def test_photos_are_checked(client, tokens, home):
    item = post(client, tokens, "demo-worker", "/api/v1/incidents", report_body(lon=home["lon"], lat=home["lat"])).get_json()
    url = f"/api/v1/incidents/{item['id']}/photos"
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    jpeg = buf.getvalue()
    r = client.post(url, data=jpeg, content_type="image/jpeg", headers=auth(tokens, "demo-worker"))
    assert r.status_code == 201 and r.get_json()["content_type"] == "image/jpeg"
    got = client.get(f"{url}/{r.get_json()['id']}", headers=auth(tokens, "demo-worker"))
    # stored as re-encoded (tests/test_security_uploads.py checks what that removes)
    assert Image.open(io.BytesIO(got.data)).size == (64, 48) and got.mimetype == "image/jpeg"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    r = client.post(url, data=b"<html>", content_type="image/jpeg", headers=auth(tokens, "demo-worker"))
    assert r.status_code == 422
    r = client.post(url, data=b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024), content_type="image/jpeg",
                    headers=auth(tokens, "demo-worker"))
    assert r.status_code == 413


def test_positions_batch_is_idempotent(client, tokens, home):
    at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    fixes = [{"at": (at + timedelta(minutes=i)).isoformat(), "lon": home["lon"], "lat": home["lat"],
              "accuracy_m": 8} for i in range(5)]
    r = post(client, tokens, "demo-worker", "/api/v1/positions", {"positions": fixes})
    assert r.status_code == 201 and r.get_json()["stored"] == 5
    r = post(client, tokens, "demo-worker", "/api/v1/positions", {"positions": fixes})
    assert r.get_json()["stored"] == 0
    bad = post(client, tokens, "demo-worker", "/api/v1/positions", {"positions": [{"at": "x", "lon": 1}]})
    assert bad.status_code == 422 and "positions[0].at" in bad.get_json()["error"]["fields"]
    assert post(client, tokens, "demo-dispatcher", "/api/v1/positions", {"positions": fixes}).status_code == 403
    cov = client.get("/api/v1/patrol-coverage", headers=auth(tokens, "demo-worker")).get_json()
    assert cov["cells"] == 1 and cov["visited"] == 1


def test_list_filters_and_validation(client, tokens):
    mine = post(client, tokens, "demo-dispatcher", "/api/v1/incidents", report_body()).get_json()
    r = client.get("/api/v1/incidents?state=new&limit=500", headers=auth(tokens, "demo-dispatcher"))
    assert any(i["id"] == mine["id"] for i in r.get_json()["items"])
    r = client.get(f"/api/v1/incidents?bbox={SEAT[0]-0.01},{SEAT[1]-0.01},{SEAT[0]+0.01},{SEAT[1]+0.01}",
                   headers=auth(tokens, "demo-dispatcher"))
    assert all(abs(i["lon"] - SEAT[0]) <= 0.01 for i in r.get_json()["items"])
    for bad in ("bbox=1,2,3", "state=lost", "limit=0", "since=yesterday"):
        r = client.get(f"/api/v1/incidents?{bad}", headers=auth(tokens, "demo-dispatcher"))
        assert r.status_code == 422, bad


def test_role_and_jurisdiction_matrix(client, tokens):
    """Every role against every endpoint: who may report, act and read, and nobody crosses towns."""
    seat_case = post(client, tokens, "demo-dispatcher", "/api/v1/incidents", report_body()).get_json()
    far_case = post(client, tokens, "demo-dispatcher", "/api/v1/incidents",
                    report_body(lon=SHANGHAIMIAO[0], lat=SHANGHAIMIAO[1])).get_json()
    assert far_case["cell_code"].startswith("150623002")
    may_report = {"demo-admin", "demo-dispatcher", "demo-worker"}
    may_accept = {"demo-admin", "demo-dispatcher"}
    for user in USERS:
        r = post(client, tokens, user, "/api/v1/incidents", report_body())
        assert (r.status_code == 201) == (user in may_report), (user, r.status_code)
        sees_seat = client.get(f"/api/v1/incidents/{seat_case['id']}", headers=auth(tokens, user)).status_code
        sees_far = client.get(f"/api/v1/incidents/{far_case['id']}", headers=auth(tokens, user)).status_code
        banner_wide = user in {"demo-admin", "demo-dispatcher", "demo-leader", "demo-analyst"}
        assert sees_seat == (200 if banner_wide else 404), (user, sees_seat)
        assert sees_far == (200 if banner_wide or user == "demo-leader-shanghaimiao" else 404), (user, sees_far)
        listed = client.get("/api/v1/incidents?limit=500", headers=auth(tokens, user)).get_json()["items"]
        if user == "demo-leader-shanghaimiao":
            assert listed and all(i["cell_code"].startswith("150623002") for i in listed)
        if user == "demo-department":
            assert all(i["department_code"] == "150623-public_security" for i in listed)
        r = post(client, tokens, user, f"/api/v1/incidents/{far_case['id']}/actions/accept", {})
        expected = 200 if user in may_accept else (404 if not banner_wide and user != "demo-leader-shanghaimiao" else 403)
        if r.status_code == 200:
            far_case = r.get_json()
            post(client, tokens, "demo-admin", f"/api/v1/incidents/{far_case['id']}/actions/reject", {})
            post(client, tokens, "demo-admin", f"/api/v1/incidents/{far_case['id']}/actions/reopen", {})
            # reopen returns it to 'accepted'; accept is no longer legal, so report a fresh one
            far_case = post(client, tokens, "demo-dispatcher", "/api/v1/incidents",
                            report_body(lon=SHANGHAIMIAO[0], lat=SHANGHAIMIAO[1])).get_json()
        assert r.status_code == expected, (user, r.status_code, r.get_json())
    town = client.get("/api/v1/incidents?unit=150623001", headers=auth(tokens, "demo-leader-shanghaimiao"))
    assert town.status_code == 403


def test_rate_limiter_counts_a_window():
    limiter = RateLimiter(limit=3, window_s=10)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", now=3) and limiter.allow("a", now=10.5)
