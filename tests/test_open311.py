"""Open311 GeoReport v2 at /open311/v2: field conformance, filters, errors, jurisdiction, XML, and
a round trip made the way GeoReport v2 clients make it (form POST with api_key, GET .json).

Writes go to the quiet county (no incident history) and are deleted when the module ends, so the
escalation tests that count incidents there see none of ours.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

import app as onemap
from data import incidents
from data.users import actor_for_token, create_user, issue_token
from db.core import connect

REGION = "150623"
TOWN_A, TOWN_B = "150623001", "150623002"  # the seat, and Shanghaimiao
PAST = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
REQUIRED = {  # the spec's request fields and their JSON types (None: may be null)
    "service_request_id": str, "status": str, "status_notes": (str, type(None)),
    "service_name": str, "service_code": str, "description": str,
    "agency_responsible": (str, type(None)), "service_notice": (str, type(None)),
    "requested_datetime": str, "updated_datetime": str, "expected_datetime": (str, type(None)),
    "address": str, "address_id": str, "zipcode": type(None), "lat": float, "long": float,
    "media_url": (str, type(None)), "grid_code": str, "handling_level": int, "due_at": str,
    "overdue": bool}


def _point_in(conn, town: str) -> tuple[float, float]:
    """(lon, lat) surely inside some level-4 cell of ``town``."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_unit "
                    "WHERE level = 4 AND parent_code LIKE %s || '%%' ORDER BY code LIMIT 1) s", (town,))
        return cur.fetchone()


@pytest.fixture(scope="module")
def world(quiet_dsn):
    """Tokens for the demo accounts and a town-level dispatcher, points in two towns; cleans up."""
    conn = connect(quiet_dsn)
    town_user = f"o311-town-{uuid.uuid4().hex[:6]}"
    create_user(conn, town_user, "o311-password", "dispatcher", unit_code=TOWN_B)
    keys = {name: issue_token(conn, name, "open311 tests") for name in
            ("demo-admin", "demo-worker", "demo-leader", "demo-department", town_user)}
    keys["read-only"] = issue_token(conn, "demo-admin", "open311 kiosk", read_only=True)
    keys["town"] = keys.pop(town_user)
    conn.commit()
    points = {TOWN_A: _point_in(conn, TOWN_A), TOWN_B: _point_in(conn, TOWN_B)}
    server = onemap.create_app(onemap.Settings(dsn=quiet_dsn))
    yield {"client": server.test_client(), "server": server, "keys": keys, "points": points, "conn": conn}
    with conn.cursor() as cur:
        cur.execute("DELETE FROM incident WHERE source = 'open311'")
        cur.execute("DELETE FROM app_user WHERE username = %s", (town_user,))
    conn.commit()
    conn.close()


def post(world, key="demo-admin", town=TOWN_A, fmt="json", **fields):
    """A form-encoded POST as Open311 clients send it."""
    lon, lat = world["points"][town]
    form = {"api_key": world["keys"][key], "service_code": "family_dispute", "lat": lat, "long": lon,
            "description": "邻里因院墙发生争执", **fields}
    form = {k: v for k, v in form.items() if v is not None}
    return world["client"].post(f"/open311/v2/requests.{fmt}", data=form)


def get(world, path, key="demo-admin", **params):
    """A GET with the api_key in the query string (None: no key)."""
    if key is not None:
        params["api_key"] = world["keys"][key]
    return world["client"].get(f"/open311/v2/{path}", query_string=params)


def assert_errors(response, status):
    """The spec's error format: a non-empty JSON list of {code: int, description: str}."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, list) and body
    for e in body:
        assert set(e) == {"code", "description"} and e["code"] == status
        assert isinstance(e["description"], str) and e["description"]
    return " ".join(e["description"] for e in body)


# -- discovery and services ------------------------------------------------------------------

def test_discovery_lists_the_endpoint_and_formats(world):
    d = world["client"].get("/open311/v2/discovery.json").get_json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(d)
    (ep,) = d["endpoints"]
    assert ep["url"].endswith("/open311/v2") and ep["type"] == "production"
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(ep["formats"]) == {"application/json", "text/xml"}
    datetime.fromisoformat(d["changeset"])


def test_services_one_per_category_in_chinese_or_english(world):
    client = world["client"]
    zh = client.get("/open311/v2/services.json").get_json()
    en = client.get("/open311/v2/services.json?locale=en").get_json()
    en_header = client.get("/open311/v2/services.json", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_json()
    with world["conn"].cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM incident_category ORDER BY sort_order, code")
        cats = cur.fetchall()
    world["conn"].rollback()
    assert [s["service_code"] for s in zh] == [c[0] for c in cats]
    assert [s["service_name"] for s in zh] == [c[1] for c in cats]
    assert [s["service_name"] for s in en] == [c[2] for c in cats] == [s["service_name"] for s in en_header]
    for s in zh + en:
        assert set(s) == {"service_code", "service_name", "description", "metadata", "type",
                          "keywords", "group"}
        assert s["metadata"] is False and s["type"] == "realtime"
        assert s["description"] and s["keywords"] and s["group"]
    by_code = {s["service_code"]: s for s in zh}
    assert by_code["grassland_dispute"]["group"] == "矛盾纠纷排查化解"
    assert {s["service_code"]: s for s in en}["school_safety"]["group"] == "Schools and their surroundings"
    assert by_code["environment"]["group"] == "地方特色数据（X）"  # no national domain


def test_service_definition_and_unknown_code(world):
    client = world["client"]
    assert client.get("/open311/v2/services/fire_hazard.json").get_json() == {
        "service_code": "fire_hazard", "attributes": []}
    assert "no_such" in assert_errors(client.get("/open311/v2/services/no_such.json"), 404)


# -- post and read back ----------------------------------------------------------------------

def test_post_then_read_back_with_every_field(world):
    r = post(world, media_url="https://example.org/p/1.jpg", address_string="镇政府东侧",
             email="a@example.org", first_name="三", last_name="张", phone="13800000000",
             device_id="dev-1", account_id="acct-7")
    assert r.status_code == 201, r.get_data(as_text=True)
    (made,) = r.get_json()
    assert set(made) == {"service_request_id", "service_notice", "account_id"}
    assert made["account_id"] is None and "网格" in made["service_notice"]
    (req,) = get(world, f"requests/{made['service_request_id']}.json").get_json()
    for field, kind in REQUIRED.items():
        assert isinstance(req[field], kind), (field, req[field])
    assert req["status"] == "open" and req["service_code"] == "family_dispute"
    assert req["service_name"] == "婚姻家庭邻里纠纷" and req["description"] == "邻里因院墙发生争执"
    assert req["status_notes"] == "已上报，待受理"
    assert req["media_url"] == "https://example.org/p/1.jpg"
    assert req["address_id"] == req["grid_code"] and req["grid_code"].startswith(TOWN_A)
    with world["conn"].cursor() as cur:
        cur.execute("SELECT name FROM grid_unit WHERE code IN (%s, %s) ORDER BY level", (TOWN_A, req["grid_code"]))
        town_name, cell_name = [r[0] for r in cur.fetchall()]
    world["conn"].rollback()
    assert req["address"].startswith(town_name) and req["address"].endswith(cell_name)
    assert req["agency_responsible"] == cell_name  # not dispatched yet: the cell's grid worker
    assert req["handling_level"] == 4 and req["expected_datetime"] == req["due_at"]
    lon, lat = world["points"][TOWN_A]
    assert req["lat"] == pytest.approx(lat) and req["long"] == pytest.approx(lon)
    requested = datetime.fromisoformat(req["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(req["updated_datetime"]) >= requested
    # personal fields are not stored anywhere on the incident or its timeline
    with world["conn"].cursor() as cur:
        cur.execute("SELECT i::text || coalesce(string_agg(e::text, ''), '') FROM incident i "
                    "LEFT JOIN incident_event e ON e.incident_id = i.id WHERE i.id = %s GROUP BY i.*",
                    (made["service_request_id"],))
        stored = cur.fetchone()[0]
    world["conn"].rollback()
    for personal in ("a@example.org", "13800000000", "张", "dev-1", "acct-7"):
        assert personal not in stored
    assert "open311" in stored  # the source column


def test_json_body_is_accepted_too(world):
    lon, lat = world["points"][TOWN_A]
    r = world["client"].post("/open311/v2/requests.json", json={
        "api_key": world["keys"]["demo-worker"], "service_code": "fire_hazard", "lat": lat,
        "long": lon, "description": "柴草堆靠近烟囱"})
    assert r.status_code == 201, r.get_data(as_text=True)


def test_english_fields_follow_the_locale(world):
    (made,) = post(world).get_json()
    (req,) = get(world, f"requests/{made['service_request_id']}.json", locale="en").get_json()
    assert req["service_name"] == "Marriage, family or neighbour dispute"
    assert req["status_notes"] == "Reported, awaiting acceptance"
    assert "grid level" in req["service_notice"] and ", " in req["address"]


def test_status_and_notes_follow_the_timeline(world):
    (made,) = post(world).get_json()
    rid = made["service_request_id"]
    admin = actor_for_token(world["conn"], world["keys"]["demo-admin"])
    incidents.act(world["conn"], admin, rid, "dispatch")
    (req,) = get(world, f"requests/{rid}.json").get_json()
    assert req["status"] == "open" and req["agency_responsible"] == req["status_notes"].removeprefix("已派遣至")
    incidents.act(world["conn"], admin, rid, "start")
    incidents.act(world["conn"], admin, rid, "resolve", note="双方达成调解协议")
    (req,) = get(world, f"requests/{rid}.json").get_json()
    # the work is done: Open311 says closed (0010_phase.sql), the notes say verification is pending
    assert req["status"] == "closed" and not req["overdue"]
    assert req["status_notes"] == "已处置，待核查：双方达成调解协议"
    incidents.act(world["conn"], admin, rid, "verify")
    incidents.act(world["conn"], admin, rid, "close")
    (req,) = get(world, f"requests/{rid}.json", locale="en").get_json()
    assert req["status"] == "closed" and req["status_notes"] == "Closed"
    assert req["expected_datetime"] is None and req["service_notice"] is None and not req["overdue"]


def test_idempotency_key_returns_the_first_request(world):
    key = str(uuid.uuid4())
    first = post(world, **{"attribute[client_uuid]": key})
    again = post(world, **{"attribute[client_uuid]": key})
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    header = world["client"].post("/open311/v2/requests.json", headers={"Idempotency-Key": key}, data={
        "api_key": world["keys"]["demo-admin"], "service_code": "family_dispute",
        "lat": world["points"][TOWN_A][1], "long": world["points"][TOWN_A][0],
        "description": "邻里因院墙发生争执"})
    assert header.status_code == 200
    assert header.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    assert "different request" in assert_errors(post(world, description="另一件事",
                                                     **{"attribute[client_uuid]": key}), 422)
    # another account's same key is another request
    other = post(world, key="demo-worker", **{"attribute[client_uuid]": key})
    assert other.status_code == 201
    assert other.get_json()[0]["service_request_id"] != first.get_json()[0]["service_request_id"]
    # without a key, the same POST twice is two requests
    a, b = post(world).get_json()[0], post(world).get_json()[0]
    assert a["service_request_id"] != b["service_request_id"]


def test_concurrent_duplicates_make_one_request(world):
    """Six clients retry the same keyed POST at once: one 201, the rest 200, all the same id."""
    key, barrier, answers = str(uuid.uuid4()), threading.Barrier(6), []
    lon, lat = world["points"][TOWN_A]
    form = {"api_key": world["keys"]["demo-worker"], "service_code": "work_safety", "lat": lat,
            "long": lon, "description": "脚手架松动", "attribute[client_uuid]": key}

    def send():
        client = world["server"].test_client()
        barrier.wait()
        r = client.post("/open311/v2/requests.json", data=form)
        answers.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(code for code, _ in answers) == [200] * 5 + [201], answers
    assert len({body[0]["service_request_id"] for _, body in answers}) == 1


# -- filters ---------------------------------------------------------------------------------

def test_filters_by_id_code_status_and_dates(world):
    fire = post(world, service_code="fire_hazard").get_json()[0]["service_request_id"]
    road = post(world, service_code="road_safety").get_json()[0]["service_request_id"]
    admin = actor_for_token(world["conn"], world["keys"]["demo-admin"])
    incidents.act(world["conn"], admin, road, "reject", note="重复上报")
    ids = {r["service_request_id"] for r in get(world, "requests.json", service_request_id=f"{fire},{road}").get_json()}
    assert ids == {fire, road}
    fires = get(world, "requests.json", service_code="fire_hazard").get_json()
    assert fire in {r["service_request_id"] for r in fires} and {r["service_code"] for r in fires} == {"fire_hazard"}
    two = get(world, "requests.json", service_code="fire_hazard,road_safety").get_json()
    assert {fire, road} <= {r["service_request_id"] for r in two}
    closed = get(world, "requests.json", status="closed").get_json()
    assert road in {r["service_request_id"] for r in closed} and {r["status"] for r in closed} == {"closed"}
    (rejected,) = [r for r in closed if r["service_request_id"] == road]
    assert rejected["status_notes"] == "不予受理：重复上报"
    opened = get(world, "requests.json", status="open").get_json()
    assert fire in {r["service_request_id"] for r in opened} and {r["status"] for r in opened} == {"open"}
    # an id list overrides every other filter (the spec)
    assert len(get(world, "requests.json", service_request_id=road, status="open").get_json()) == 1
    # a request received months ago: outside the default 90 days, inside an explicit range
    old = _report_directly(world, PAST)
    assert old not in {r["service_request_id"] for r in get(world, "requests.json").get_json()}
    june = get(world, "requests.json", start_date="2026-06-01T00:00:00Z", end_date="2026-06-30").get_json()
    assert old in {r["service_request_id"] for r in june}
    assert all(r["requested_datetime"].startswith("2026-06") for r in june)
    plus = get(world, "requests.json", start_date="2026-06-15T17:00:00 08:00", end_date="2026-06-16")
    assert old in {r["service_request_id"] for r in plus.get_json()}  # '+' sent unencoded
    later = get(world, "requests.json", start_date="2026-06-15T09:00:01Z", end_date="2026-07-01T00:00:00Z")
    assert old not in {r["service_request_id"] for r in later.get_json()}


def _report_directly(world, now: datetime) -> str:
    """An Open311-sourced incident received at ``now`` (the API always uses the real clock)."""
    admin = actor_for_token(world["conn"], world["keys"]["demo-admin"])
    lon, lat = world["points"][TOWN_A]
    rep = incidents.validate_report({"id": str(uuid.uuid4()), "category": "public_order", "lon": lon,
                                     "lat": lat, "observed_at": now.isoformat()}, now, source="open311")
    item, _ = incidents.report(world["conn"], admin, rep, now=now)
    return item["id"]


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("params, status, words", [
    ({"start_date": "yesterday"}, 400, "start_date"),
    ({"end_date": "2026-13-45"}, 400, "end_date"),
    ({"start_date": "2026-06-01T00:00:00"}, 400, "time zone"),
    ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, 400, "90"),
    ({"start_date": "2026-06-02", "end_date": "2026-06-01"}, 400, "before"),
    ({"status": "pending"}, 400, "pending"),
    ({"service_code": "no_such"}, 400, "no_such"),
    ({"service_request_id": "42"}, 400, "42"),
    ({"jurisdiction_id": "110101"}, 404, "110101"),
])
def test_bad_query_parameters(world, params, status, words):
    assert words in assert_errors(get(world, "requests.json", **params), status)


@pytest.mark.parametrize("fields, status, words", [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": "no_such"}, 404, "no_such"),
    ({"lat": None}, 400, "lat"),
    ({"long": None, "address_string": "镇政府"}, 400, "geocode"),
    ({"lat": "north"}, 400, "lat"),
    ({"lat": "nan"}, 400, "lat"),
    ({"long": "181"}, 400, "long"),
    ({"description": "x" * 4001}, 400, "4000"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"lat": "38.0", "long": "110.0"}, 422, "km outside"),
])
def test_bad_posts(world, fields, status, words):
    assert words in assert_errors(post(world, **fields), status)


def test_malformed_json_body(world):
    r = world["client"].post("/open311/v2/requests.json", data="{not json", content_type="application/json")
    assert_errors(r, 400)


def test_credentials_and_roles(world):
    assert "api_key" in assert_errors(get(world, "requests.json", key=None), 401)
    r = world["client"].get("/open311/v2/requests.json", query_string={"api_key": "wrong"})
    assert_errors(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_errors(post(world, api_key=None), 401)
    assert_errors(post(world, key="demo-leader"), 403)  # leaders read, they do not report
    assert_errors(post(world, key="read-only"), 403)
    assert get(world, "requests.json", key="read-only").status_code == 200
    bearer = world["client"].get("/open311/v2/requests.json",
                                 headers={"Authorization": f"Bearer {world['keys']['demo-leader']}"})
    assert bearer.status_code == 200


def test_unknown_endpoints_and_methods_answer_in_the_list_format(world):
    client = world["client"]
    assert_errors(client.get("/open311/v2/nothing.json"), 404)
    assert_errors(client.get("/open311/v2/"), 404)
    assert_errors(client.get("/open311/v2/services.csv"), 404)
    assert_errors(client.delete("/open311/v2/requests.json"), 405)
    assert_errors(get(world, "requests/not-a-uuid.json"), 404)
    assert_errors(get(world, f"requests/{uuid.uuid4()}.json"), 404)


# -- jurisdiction ----------------------------------------------------------------------------

def test_a_town_user_sees_only_its_town(world):
    in_a = post(world, town=TOWN_A).get_json()[0]["service_request_id"]
    in_b = post(world, key="town", town=TOWN_B).get_json()[0]["service_request_id"]
    mine = get(world, "requests.json", key="town").get_json()
    assert in_b in {r["service_request_id"] for r in mine} and in_a not in {r["service_request_id"] for r in mine}
    assert all(r["grid_code"].startswith(TOWN_B) for r in mine)
    assert_errors(get(world, f"requests/{in_a}.json", key="town"), 404)
    assert get(world, "requests.json", key="town", service_request_id=in_a).get_json() == []
    everything = {r["service_request_id"] for r in get(world, "requests.json").get_json()}
    assert {in_a, in_b} <= everything  # the banner-level admin sees both


def test_department_staff_see_only_their_department(world):
    rid = post(world, service_code="public_order").get_json()[0]["service_request_id"]
    assert_errors(get(world, f"requests/{rid}.json", key="demo-department"), 404)
    admin = actor_for_token(world["conn"], world["keys"]["demo-admin"])
    incidents.act(world["conn"], admin, rid, "dispatch")  # public order: the demo department's kind
    (req,) = get(world, f"requests/{rid}.json", key="demo-department").get_json()
    assert req["service_request_id"] == rid
    assert all(r["agency_responsible"] == req["agency_responsible"]
               for r in get(world, "requests.json", key="demo-department").get_json())


# -- XML -------------------------------------------------------------------------------------

def test_xml_variants(world):
    client = world["client"]
    d = ET.fromstring(client.get("/open311/v2/discovery.xml").data)
    assert d.tag == "discovery" and d.find("endpoints/endpoint/formats/format") is not None
    s = ET.fromstring(client.get("/open311/v2/services.xml").data)
    assert s.tag == "services" and s.find("service/metadata").text == "false"
    made = ET.fromstring(post(world, fmt="xml", description="页眉\x0b控制字符").data)
    rid = made.find("request/service_request_id").text
    r = ET.fromstring(get(world, f"requests/{rid}.xml").data)
    assert r.tag == "service_requests" and r.find("request/status").text == "open"
    assert r.find("request/zipcode").text is None and r.find("request/address_id").text
    assert r.find("request/description").text == "页眉\ufffd控制字符"  # XML 1.0 cannot hold \x0b
    e = client.get("/open311/v2/services/no_such.xml")
    assert e.status_code == 404 and e.mimetype == "text/xml"
    err = ET.fromstring(e.data)
    assert err.tag == "errors" and err.find("error/code").text == "404"


# -- an Open311 client's round trip ---------------------------------------------------------

def test_open311_client_round_trip(world):
    """What a GeoReport v2 client does (the ``georeport`` package's calls, plus its missing POST):
    list services, post a form with api_key, read the request back by id and in a list."""
    client, key = world["client"], world["keys"]["demo-worker"]
    services = client.get("/open311/v2/services.json").get_json()
    code = next(s["service_code"] for s in services if s["group"] == "社会治安")
    assert client.get(f"/open311/v2/services/{code}.json").status_code == 200
    lon, lat = world["points"][TOWN_A]
    posted = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": code, "lat": f"{lat:.6f}", "long": f"{lon:.6f}",
        "description": "路口有人聚集滋事", "first_name": "Li", "media_url": "http://example.org/a.jpg"},
        content_type="application/x-www-form-urlencoded")
    assert posted.status_code == 201
    rid = posted.get_json()[0]["service_request_id"]
    one = client.get(f"/open311/v2/requests/{rid}.json", query_string={"api_key": key}).get_json()[0]
    listed = client.get("/open311/v2/requests.json", query_string={
        "api_key": key, "service_request_id": rid}).get_json()
    assert listed == [one]
    assert one["service_code"] == code and one["status"] == "open" and one["media_url"] == "http://example.org/a.jpg"


# -- realistic history (read-only, the loaded demo) ------------------------------------------

def test_demo_history_conforms(demo_dsn):
    """Every request of a busy 90 days has the spec's fields and types; at most 1000 come back."""
    conn = connect(demo_dsn)
    key = issue_token(conn, "demo-admin", "open311 conformance")
    conn.commit()
    conn.close()
    client = onemap.create_app(onemap.Settings(dsn=demo_dsn)).test_client()
    try:
        r = client.get("/open311/v2/requests.json", query_string={
            "api_key": key, "start_date": "2026-03-18", "end_date": "2026-06-15"})
        assert_errors(client.get("/open311/v2/requests.json", query_string={
            "api_key": key, "start_date": "2026-03-18", "end_date": "2026-06-16"}), 400)  # 91 days
    finally:  # leave the shared demo database as it was
        conn = connect(demo_dsn)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM api_token WHERE name = 'open311 conformance'")
        conn.commit()
        conn.close()
    rows = r.get_json()
    assert r.status_code == 200 and 0 < len(rows) <= 1000
    assert (r.headers.get("X-Open311-Truncated") == "true") == (len(rows) == 1000)
    for req in rows:
        for field, kind in REQUIRED.items():
            assert isinstance(req[field], kind), (field, req)
        assert req["status"] in ("open", "closed") and req["status_notes"]
        assert "2026-03-18" <= req["requested_datetime"][:10] <= "2026-06-15"
    assert {"open", "closed"} <= {req["status"] for req in rows}
