"""The loop's end over HTTP (issue 16): duplicates suggested with a report and merged by a
dispatcher (the KPIs count them once), return visits that reopen a case and feed the satisfaction
rate, and a mediation case from acceptance to agreement and its return visit; each refused
outside the caller's role or jurisdiction. Its own database: these tests add open incidents."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from app import Settings, create_app
from data import stats
from data.users import issue_token
from db.core import connect

from conftest import DEMO_NOW, _drop, _fresh_database

REGION = "150623"
USERS = ["demo-admin", "demo-dispatcher", "demo-leader", "demo-analyst", "demo-worker", "demo-leader-shanghaimiao"]


@pytest.fixture(scope="module")
def dsn(server_dsn):
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "loopend")
    load_demo(dsn, seed=1, incidents=0, now=DEMO_NOW)
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture(scope="module")
def client(dsn):
    app = create_app(Settings(dsn=dsn))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def tokens(dsn):
    conn = connect(dsn)
    out = {u: issue_token(conn, u, f"loop-{uuid.uuid4().hex[:6]}") for u in USERS}
    conn.commit()
    conn.close()
    return out


@pytest.fixture(scope="module")
def spot(dsn):
    """A point inside the demo worker's own cell, that cell, and a point in another town."""
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("""SELECT ST_X(p), ST_Y(p), u.code FROM app_user a JOIN grid_unit u ON u.code = a.unit_code,
                       LATERAL ST_PointOnSurface(u.geom) p WHERE a.username = 'demo-worker'""")
        lon, lat, cell = cur.fetchone()
    conn.close()
    return {"lon": lon, "lat": lat, "cell": cell}


def call(client, tokens, user, method, path, body=None):
    headers = {"Authorization": f"Bearer {tokens[user]}"}
    if body is None:
        return client.open(path, method=method, headers=headers)
    return client.open(path, method=method, data=json.dumps(body), content_type="application/json", headers=headers)


def report(client, tokens, spot, category="public_order", dlon=0.0, user="demo-worker"):
    body = {"id": str(uuid.uuid4()), "category": category, "description": "牧场围栏被推倒",
            "lon": spot["lon"] + dlon, "lat": spot["lat"],
            "observed_at": (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()}
    r = call(client, tokens, user, "POST", "/api/v1/incidents", body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def act(client, tokens, user, incident_id, action, **body):
    r = call(client, tokens, user, "POST", f"/api/v1/incidents/{incident_id}/actions/{action}", body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def today(dsn) -> stats.Filters:
    return stats.Filters.last_days(1, tz=stats.region_timezone(dsn, REGION))


# --- duplicates and merge --------------------------------------------------------------------------

def test_duplicate_suggested_merged_and_counted_once(client, tokens, spot, dsn):
    f = today(dsn)
    before = stats.kpis(dsn, REGION, spot["cell"], f)["reported"]
    cats_before = {c["code"]: c["reported"] for c in stats.categories(dsn, spot["cell"], f)}
    first = report(client, tokens, spot, "work_safety")
    assert first["duplicates"] == []
    # before sending: the field app asks; a related category (same department kind) is suggested too
    q = (f"/api/v1/incidents/duplicates?category=fire_hazard&lon={spot['lon'] + 0.0005}&lat={spot['lat']}")
    found = call(client, tokens, "demo-worker", "GET", q).get_json()["items"]
    assert [d["id"] for d in found] == [first["id"]] and found[0]["same_category"] is False
    assert 0 < found[0]["distance_m"] < 100
    far = call(client, tokens, "demo-worker", "GET",
               f"/api/v1/incidents/duplicates?category=work_safety&lon={spot['lon'] + 0.05}&lat={spot['lat']}")
    assert far.get_json()["items"] == []
    unrelated = call(client, tokens, "demo-worker", "GET",
                     f"/api/v1/incidents/duplicates?category=school_safety&lon={spot['lon']}&lat={spot['lat']}")
    assert unrelated.get_json()["items"] == []
    second = report(client, tokens, spot, "work_safety", dlon=0.0003)
    assert [d["id"] for d in second["duplicates"]] == [first["id"]]
    assert second["duplicates"][0]["same_category"] is True
    assert stats.kpis(dsn, REGION, spot["cell"], f)["reported"] == before + 2

    # a grid worker may not merge; the dispatcher does
    path = f"/api/v1/incidents/{second['id']}/merge"
    assert call(client, tokens, "demo-worker", "POST", path, {"into": first["id"]}).status_code == 403
    r = call(client, tokens, "demo-dispatcher", "POST", path, {"into": first["id"], "note": "同一处围栏"})
    assert r.status_code == 200, r.get_json()
    merged = r.get_json()
    assert merged["state"] == "closed" and merged["merged_into"] == first["id"]
    assert merged["timeline"][-1]["action"] == "merge"
    kept = call(client, tokens, "demo-dispatcher", "GET", f"/api/v1/incidents/{first['id']}").get_json()
    assert kept["timeline"][-1]["action"] == "merged" and second["id"] in kept["timeline"][-1]["note"]
    assert kept["state"] == "new" and [e["action"] for e in kept["timeline"]] == ["report", "merged"]

    # counted once, in every indicator that counts reports
    assert stats.kpis(dsn, REGION, spot["cell"], f)["reported"] == before + 1
    cats = {c["code"]: c["reported"] for c in stats.categories(dsn, spot["cell"], f)}
    assert cats["work_safety"] == cats_before.get("work_safety", 0) + 1
    assert sum(t["reported"] for t in stats.trend(dsn, spot["cell"], f)) == before + 1
    assert stats.evaluation(dsn, REGION, spot["cell"], f)["merged"] == 1
    # a merged incident stays closed and is no longer suggested
    again = call(client, tokens, "demo-dispatcher", "POST", f"/api/v1/incidents/{second['id']}/actions/reopen", {})
    assert again.status_code == 409
    q = f"/api/v1/incidents/duplicates?category=work_safety&lon={spot['lon']}&lat={spot['lat']}"
    assert [d["id"] for d in call(client, tokens, "demo-worker", "GET", q).get_json()["items"]] == [first["id"]]
    # merging twice, into itself, into the merged one: refused
    assert call(client, tokens, "demo-dispatcher", "POST", path, {"into": first["id"]}).status_code == 409
    assert call(client, tokens, "demo-dispatcher", "POST", f"/api/v1/incidents/{first['id']}/merge",
                {"into": first["id"]}).status_code == 422
    assert call(client, tokens, "demo-dispatcher", "POST", f"/api/v1/incidents/{first['id']}/merge",
                {"into": second["id"]}).status_code == 409
    assert call(client, tokens, "demo-dispatcher", "POST", path, {"into": "nope"}).status_code == 422


def test_duplicates_stay_in_the_jurisdiction(client, tokens, spot):
    mine = report(client, tokens, spot, "road_safety")
    q = f"/api/v1/incidents/duplicates?category=road_safety&lon={spot['lon']}&lat={spot['lat']}"
    assert mine["id"] in [d["id"] for d in call(client, tokens, "demo-leader", "GET", q).get_json()["items"]]
    other_town = call(client, tokens, "demo-leader-shanghaimiao", "GET", q).get_json()["items"]
    assert other_town == []
    # and another town's leader cannot merge what they cannot see
    r = call(client, tokens, "demo-leader-shanghaimiao", "POST", f"/api/v1/incidents/{mine['id']}/merge",
             {"into": mine["id"]})
    assert r.status_code in (403, 404)
    for bad in ("lon=999&lat=38&category=x", "lat=38&category=road_safety", "lon=107&lat=38&category=road_safety&radius_m=0"):
        assert call(client, tokens, "demo-worker", "GET", f"/api/v1/incidents/duplicates?{bad}").status_code == 422


# --- return visits ----------------------------------------------------------------------------------

def resolved(client, tokens, spot, category="livelihood_service"):
    item = report(client, tokens, spot, category)
    act(client, tokens, "demo-dispatcher", item["id"], "accept")
    act(client, tokens, "demo-dispatcher", item["id"], "dispatch")
    act(client, tokens, "demo-dispatcher", item["id"], "start")
    return act(client, tokens, "demo-dispatcher", item["id"], "resolve", note="已处理")


def test_a_not_satisfied_return_visit_reopens_the_case(client, tokens, spot, dsn):
    f = today(dsn)
    ev0 = stats.evaluation(dsn, REGION, spot["cell"], f)
    item = resolved(client, tokens, spot)
    due = call(client, tokens, "demo-worker", "GET", "/api/v1/return-visits/due").get_json()["items"]
    assert item["id"] in [d["id"] for d in due]
    assert [d["visitor"] for d in due if d["id"] == item["id"]] == ["grid_worker"]
    path = f"/api/v1/incidents/{item['id']}/return-visit"
    # the reporting worker records it but may not reopen; the back office reopens
    assert call(client, tokens, "demo-worker", "POST", path, {"outcome": "unsatisfied", "reopen": True}).status_code == 403
    assert call(client, tokens, "demo-analyst", "POST", path, {"outcome": "satisfied"}).status_code == 403
    assert call(client, tokens, "demo-dispatcher", "POST", path, {"outcome": "meh"}).status_code == 422
    assert call(client, tokens, "demo-dispatcher", "POST", path,
                {"outcome": "satisfied", "reopen": True}).status_code == 422
    r = call(client, tokens, "demo-dispatcher", "POST", path, {"outcome": "unsatisfied", "note": "围栏仍未修好",
                                                               "reopen": True})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "accepted" and out["reopened"] == 1
    assert [e["action"] for e in out["timeline"]][-2:] == ["return_visit", "reopen"]
    assert out["return_visits"][0]["outcome"] == "unsatisfied" and out["return_visits"][0]["reopened"] is True
    # a case that is open again is visited only after it is resolved again
    assert call(client, tokens, "demo-dispatcher", "POST", path, {"outcome": "satisfied"}).status_code == 409
    act(client, tokens, "demo-dispatcher", item["id"], "dispatch")
    act(client, tokens, "demo-dispatcher", item["id"], "start")
    act(client, tokens, "demo-dispatcher", item["id"], "resolve")
    r = call(client, tokens, "demo-worker", "POST", path, {"outcome": "basic"})
    assert r.status_code == 200, r.get_json()
    assert call(client, tokens, "demo-worker", "POST", path, {"outcome": "basic"}).status_code == 409  # once per round
    ev = stats.evaluation(dsn, REGION, spot["cell"], f)
    assert ev["visits"] == ev0["visits"] + 2 and ev["unsatisfied"] == ev0["unsatisfied"] + 1
    assert ev["reopened"] == ev0["reopened"] + 1
    k = stats.kpis(dsn, REGION, spot["cell"], f)
    assert k["satisfaction_pct"] == ev["satisfaction_pct"]
    assert k["satisfaction_pct"] == round(100.0 * (ev["satisfied"] + ev["basic"]) / ev["visits"], 1)
    due = call(client, tokens, "demo-dispatcher", "GET", "/api/v1/return-visits/due").get_json()["items"]
    assert item["id"] not in [d["id"] for d in due]


def test_return_visit_of_an_open_case_or_elsewhere_is_refused(client, tokens, spot):
    item = report(client, tokens, spot)
    path = f"/api/v1/incidents/{item['id']}/return-visit"
    assert call(client, tokens, "demo-dispatcher", "POST", path, {"outcome": "satisfied"}).status_code == 409
    assert call(client, tokens, "demo-leader-shanghaimiao", "POST", path, {"outcome": "satisfied"}).status_code in (403, 404)


# --- mediation ----------------------------------------------------------------------------------------

def test_a_mediation_case_from_acceptance_to_agreement(client, tokens, spot, dsn):
    item = report(client, tokens, spot, "grassland_dispute")
    base = f"/api/v1/incidents/{item['id']}/mediation"
    assert call(client, tokens, "demo-analyst", "POST", base, {"kind": "grassland"}).status_code == 403
    assert call(client, tokens, "demo-dispatcher", "POST", base, {"kind": "cattle"}).status_code == 422
    r = call(client, tokens, "demo-dispatcher", "POST", base, {"kind": "grassland"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["stage"] == "accepted" and r.get_json()["incident"]["state"] == "accepted"
    assert call(client, tokens, "demo-dispatcher", "POST", base, {"kind": "grassland"}).status_code == 409
    steps = base + "/steps"
    # out of order: refused
    assert call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "agree", "text": "x"}).status_code == 409
    with connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name FROM facility WHERE kind = 'mediation_station' AND region_code = %s "
                    "ORDER BY id LIMIT 1", (REGION,))
        station, station_name = cur.fetchone()
        cur.execute("SELECT id FROM facility WHERE kind = 'school' LIMIT 1")
        school = cur.fetchone()[0]
    assert call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "assign", "station_id": school}).status_code == 422
    r = call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "assign", "station_id": station})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["stage"] == "assigned" and r.get_json()["station_name"] == station_name
    assert r.get_json()["incident"]["state"] == "dispatched"
    assert call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "mediate"}).get_json()["stage"] == "mediating"
    assert call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "agree"}).status_code == 422  # no text
    r = call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "agree", "text": "两户按原界桩重新围栏，互不追究"})
    case = r.get_json()
    assert case["stage"] == "agreed" and case["incident"]["state"] == "resolved"
    assert case["outcome_text"].startswith("两户")
    r = call(client, tokens, "demo-dispatcher", "POST", steps, {"step": "visit", "outcome": "satisfied"})
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert case["stage"] == "visited" and case["return_visits"][0]["outcome"] == "satisfied"
    actions = [e["action"] for e in case["incident"]["timeline"]]
    assert actions == ["report", "accept", "dispatch", "start", "resolve", "return_visit"]
    notes = [e["note"] for e in case["incident"]["timeline"]]
    assert notes[2].startswith("mediation assigned: " + station_name)
    # masked for a role that does not see personal fields; refused outside the jurisdiction
    seen = call(client, tokens, "demo-analyst", "GET", base).get_json()
    assert seen["stage"] == "visited" and seen["outcome_text"] is None
    assert call(client, tokens, "demo-leader-shanghaimiao", "GET", base).status_code == 404


def test_only_disputes_become_mediation_cases(client, tokens, spot):
    item = report(client, tokens, spot, "fire_hazard")
    r = call(client, tokens, "demo-dispatcher", "POST", f"/api/v1/incidents/{item['id']}/mediation", {"kind": "other"})
    assert r.status_code == 409
    team = report(client, tokens, spot, "family_dispute")
    base = f"/api/v1/incidents/{team['id']}/mediation"
    assert call(client, tokens, "demo-dispatcher", "POST", base, {"kind": "marriage_family"}).status_code == 201
    r = call(client, tokens, "demo-dispatcher", "POST", base + "/steps", {"step": "assign", "team": "旗婚姻家庭调解专家组"})
    assert r.get_json()["team"] == "旗婚姻家庭调解专家组"
    call(client, tokens, "demo-dispatcher", "POST", base + "/steps", {"step": "mediate"})
    r = call(client, tokens, "demo-dispatcher", "POST", base + "/steps", {"step": "refer", "text": "调解不成，引导诉讼"})
    assert r.get_json()["stage"] == "referred"


# --- least privilege ---------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE return_visit SET outcome = 'satisfied'", "DELETE FROM return_visit", "TRUNCATE return_visit",
    "UPDATE bulletin SET file_name = 'x'", "DELETE FROM bulletin", "DELETE FROM mediation_case",
    "ALTER TABLE incident DISABLE TRIGGER incident_merged_guard",
])
def test_the_app_role_appends_visits_and_bulletins_only(dsn, statement):
    import psycopg2

    from db.core import app_dsn

    conn = connect(app_dsn(dsn))
    try:
        with conn.cursor() as cur, pytest.raises((psycopg2.errors.InsufficientPrivilege,)):
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def test_open311_says_which_open_requests_look_the_same(client, tokens, spot):
    def post():
        form = {"api_key": tokens["demo-worker"], "service_code": "environment", "lat": spot["lat"],
                "long": spot["lon"], "description": "河道边倾倒垃圾"}
        r = client.post("/open311/v2/requests.json", data=form)
        assert r.status_code == 201, r.get_json()
        return r.get_json()[0]

    first = post()
    assert first["service_request_id"] not in (first["service_notice"] or "")
    second = post()
    assert first["service_request_id"] in second["service_notice"]
    assert "可能重复" in second["service_notice"] or "Possibly" in second["service_notice"]


# --- the field app shows them before sending ------------------------------------------------------------

def test_the_field_app_shows_open_cases_nearby_before_sending(dsn, client, tokens, spot):
    import socket
    import threading
    from pathlib import Path

    from waitress.server import create_server

    from conftest import chromium

    earlier = report(client, tokens, spot, "housing_safety")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=dsn)), host="127.0.0.1", port=port, threads=8)
    threading.Thread(target=srv.run, daemon=True).start()
    try:
        with chromium() as browser:
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      geolocation={"longitude": spot["lon"] + 0.0004, "latitude": spot["lat"],
                                                   "accuracy": 10},
                                      permissions=["geolocation"], locale="zh-CN")
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/field/")
            page.fill("#username", "demo-worker")
            page.fill("#password", "onemap-worker")
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#tabs:not([hidden])", timeout=15_000)
            page.click("#tabs button[data-view=v-report]")
            page.wait_for_function("document.getElementById('r-acc').textContent.length > 0", timeout=15_000)
            page.select_option("#r-category", "housing_safety")
            page.wait_for_selector("#r-dups:not([hidden])", timeout=15_000)
            text = page.inner_text("#r-dups")
            assert "附近已有可能相同的在办事件" in text and " 米" in text and "房屋安全隐患" in text
            shots = Path(__file__).resolve().parent.parent / "var" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "field-duplicates.png"))
            page.select_option("#r-category", "school_safety")  # unrelated: nothing suggested
            page.wait_for_selector("#r-dups", state="hidden", timeout=15_000)
            assert errors == []
            ctx.close()
    finally:
        srv.close()
    assert earlier["id"]
