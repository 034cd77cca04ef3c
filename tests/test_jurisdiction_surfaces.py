"""One incident, one worker, read by every role through every surface: the same rows, the same
masked fields, 404/403 outside the jurisdiction on every path, and reveals audited.

Surfaces: /api/v1 (get, list, photo, responders, routes), Open311, OGC API, exports (the file
written), the map's incidents layer, the dashboard's incident panel. Served by the real app over
the demo county (conftest ``demo_server``) with real tokens.
"""
from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from PIL import Image

from data.users import actor_for_token, issue_token
from db.core import connect
from domain import policy
from exports.service import EmptyExport, ExportRequest, run
from layers.base import Query

from conftest import scalar

TOWN = "150623002"
ROLES = ("leader", "town_leader", "dispatcher", "analyst", "department", "worker", "kiosk", "admin")
USERS = {"leader": "demo-leader", "town_leader": "demo-leader-shanghaimiao", "dispatcher": "demo-dispatcher",
         "analyst": "demo-analyst", "department": "demo-department", "worker": "demo-worker",
         "kiosk": "demo-leader", "admin": "demo-admin"}
SEES_PERSONAL = {"dispatcher", "department", "worker", "admin"}  # domain.policy: the personal class
SEES_NAMES = {"leader", "town_leader", "dispatcher", "department", "worker", "admin"}  # staff names


@pytest.fixture(scope="module")
def world(demo_server, demo_dsn):
    """Tokens and actors for every role, and three incidents: one in the demo worker's cell of the
    demo department, one elsewhere in 上海庙镇 (another department), one in another town; plus one
    the worker reported just outside their cell."""
    conn = connect(demo_dsn)
    tokens, actors = {}, {}
    with conn:
        for role, user in USERS.items():
            tokens[role] = issue_token(conn, user, f"surfaces-{role}", read_only=role == "kiosk")
            actors[role] = actor_for_token(conn, tokens[role])
    worker, dept = actors["worker"], actors["department"].department_code
    cell = worker.unit_code
    with conn.cursor() as cur:
        pick = ("SELECT id::text, cell_code, ST_X(geom), ST_Y(geom), received_at FROM incident "
                "WHERE {} AND description <> '' ORDER BY received_at DESC, id LIMIT 1")
        cur.execute(pick.format("cell_code = %s AND department_code = %s"), (cell, dept))
        mine = cur.fetchone()
        if mine is None:  # the demo may have none of that department there: make it so
            cur.execute(pick.format("cell_code = %s"), (cell,))
            mine = cur.fetchone()
            cur.execute("UPDATE incident SET department_code = %s WHERE id = %s", (dept, mine[0]))
        cur.execute(pick.format("cell_code LIKE %s AND cell_code <> %s AND department_code IS DISTINCT FROM %s"),
                    (TOWN + "%", cell, dept))
        town = cur.fetchone()
        cur.execute(pick.format("cell_code NOT LIKE %s AND left(cell_code, 9) <> left(%s, 9) "
                                "AND department_code IS DISTINCT FROM %s"), (TOWN + "%", cell, dept))
        other = cur.fetchone()
        cur.execute("SELECT c.code, ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom)) "
                    "FROM grid_unit c JOIN grid_unit w ON w.code = %s "
                    "WHERE c.level = 4 AND c.code <> w.code AND ST_Touches(c.geom, w.geom) ORDER BY c.code LIMIT 1",
                    (cell,))
        next_cell, nlon, nlat = cur.fetchone()
    conn.commit()
    conn.close()
    assert mine and town and other and mine[1] != town[1]
    report = {"id": str(uuid.uuid4()), "category": "public_order", "description": "邻户王某门前堆放柴草",
              "lon": nlon, "lat": nlat, "observed_at": datetime.now(timezone.utc).isoformat()}
    r = requests.post(demo_server + "/api/v1/incidents", json=report, headers=_h(tokens["worker"]))
    assert r.status_code == 201, r.text
    assert r.json()["cell_code"] == next_cell  # the database put it in the next cell, outside the worker's
    own = (report["id"], next_cell, nlon, nlat, None)
    return {"url": demo_server, "dsn": demo_dsn, "tokens": tokens, "actors": actors,
            "incidents": {"mine": mine, "town": town, "other": other, "own": own}}


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def expected(role: str, which: str, world) -> bool:
    """Who may see which incident, stated per case (not computed by the code under test)."""
    worker_cell = world["actors"]["worker"].unit_code
    in_town = world["incidents"][which][1].startswith(TOWN)
    return {"leader": True, "kiosk": True, "dispatcher": True, "analyst": True, "admin": True,
            "town_leader": in_town,
            "department": which == "mine",
            "worker": which in ("mine", "own") or world["incidents"][which][1] == worker_cell}[role]


def shows_personal(role: str, which: str) -> bool:
    """Whether the description comes back unmasked (the reporter always reads their own)."""
    return role in SEES_PERSONAL or (which == "own" and role == "worker")


# -- one function per surface: (visible?, description or None) --------------------------------

def api_get(world, role, inc):
    r = requests.get(f"{world['url']}/api/v1/incidents/{inc[0]}", headers=_h(world["tokens"][role]))
    assert r.status_code in (200, 404), r.text
    body = r.json() if r.ok else {}
    if r.ok and body["description"] is None:  # notes are free text (a report's is its description)
        assert all(e["note"] is None for e in body["timeline"])
        assert all(e["actor"] is None or e["actor"].endswith(":*") for e in body["timeline"]) or \
            role in SEES_NAMES
    return r.ok, body.get("description"), body.get("reporter_id")


def api_list(world, role, inc):
    lon, lat = inc[2], inc[3]
    bbox = f"{lon - 1e-6},{lat - 1e-6},{lon + 1e-6},{lat + 1e-6}"
    r = requests.get(f"{world['url']}/api/v1/incidents", params={"bbox": bbox, "limit": 500},
                     headers=_h(world["tokens"][role]))
    assert r.status_code == 200, r.text
    hit = [i for i in r.json()["items"] if i["id"] == inc[0]]
    return bool(hit), hit[0]["description"] if hit else None, hit[0].get("reporter_id") if hit else None


def open311(world, role, inc):
    r = requests.get(f"{world['url']}/open311/v2/requests/{inc[0]}.json",
                     params={"api_key": world["tokens"][role]})
    assert r.status_code in (200, 404), r.text
    return r.ok, r.json()[0]["description"] if r.ok else None, None


def ogc(world, role, inc):
    r = requests.get(f"{world['url']}/ogc/collections/incidents/items/{inc[0]}", headers=_h(world["tokens"][role]))
    assert r.status_code in (200, 404), r.text
    props = r.json()["properties"] if r.ok else {}
    return r.ok, props.get("description"), props.get("reporter")


def export(world, role, inc, tmp_path):
    received = scalar(world["dsn"], "SELECT received_at FROM incident WHERE id = %s", (inc[0],))
    out = tmp_path / f"{role}-{inc[0]}.geojson"
    q = Query(since=received, until=received + timedelta(microseconds=1))
    try:
        run(world["dsn"], world["actors"][role], ExportRequest(("incidents",), "geojson", "EPSG:4326", q), out)
    except EmptyExport:  # nothing of it in the caller's jurisdiction: no file
        return False, None, None
    features = json.loads(out.read_text(encoding="utf-8"))["features"] if out.exists() else []
    hit = [f["properties"] for f in features if (f["properties"].get("编号") or f["properties"].get("id")) == inc[0]]
    props = hit[0] if hit else {}
    return bool(hit), props.get("描述", props.get("description")), props.get("上报网格员", props.get("reporter"))


def map_points(world, role, inc):
    lon, lat = inc[2], inc[3]
    bbox = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    r = requests.get(f"{world['url']}/layers/incidents.geojson", headers=_h(world["tokens"][role]),
                     params={"zoom": 16, "bbox": bbox, "range": "d365"})
    assert r.status_code == 200, r.text
    ids = {f["properties"]["id"] for f in r.json()["features"]}
    assert all("description" not in f["properties"] for f in r.json()["features"])
    return inc[0] in ids, None, None


def panel(world, role, inc):
    from flask import g

    from app import Settings, create_app
    from dashboard.leaders import incident_detail
    from data.incidents import NotFound

    app = world.setdefault("app", create_app(Settings(dsn=world["dsn"], escalate_every_s=0)))
    with app.test_request_context("/"):
        g.onemap_actor = world["actors"][role]
        try:
            item, _ranked = incident_detail(world["dsn"], inc[0])
        except NotFound:
            return False, None, None
    return True, item["description"], item["reporter_id"]


SURFACES = {"api_get": api_get, "api_list": api_list, "open311": open311, "ogc": ogc, "panel": panel}


@pytest.mark.parametrize("which", ("mine", "town", "other", "own"))
@pytest.mark.parametrize("role", ROLES)
def test_every_surface_gives_the_same_row_and_the_same_masks(world, role, which, tmp_path):
    inc = world["incidents"][which]
    seen = {name: fn(world, role, inc) for name, fn in SURFACES.items()}
    seen["export"] = export(world, role, inc, tmp_path)
    seen["map"] = map_points(world, role, inc)
    want = expected(role, which, world)
    for name, (visible, description, _reporter) in seen.items():
        assert visible is want, f"{role} {which}: {name} says visible={visible}"
        if visible and name != "map":
            assert (description is not None) is shows_personal(role, which), f"{role} {which}: {name} masking"
    descriptions = {name: d for name, (v, d, _) in seen.items() if v and name != "map"}
    assert len(set(descriptions.values())) <= 1, f"{role} {which}: surfaces disagree: {descriptions}"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def test_photos_only_for_roles_that_see_personal_data_and_never_outside(world):
    inc = world["incidents"]["mine"]
    r = requests.post(f"{world['url']}/api/v1/incidents/{inc[0]}/photos", data=_png(),
                      headers={**_h(world["tokens"]["admin"]), "Content-Type": "image/png"})
    assert r.status_code == 201, r.text
    url = f"{world['url']}/api/v1/incidents/{inc[0]}/photos/{r.json()['id']}"
    for role in ROLES:
        got = requests.get(url, headers=_h(world["tokens"][role]))
        want = 200 if role in SEES_PERSONAL and expected(role, "mine", world) else (
            404 if not expected(role, "mine", world) else 403)
        assert got.status_code == want, (role, got.status_code, got.text[:200])


def _audit_rows(dsn, username):
    return scalar(dsn, "SELECT count(*) FROM audit_log WHERE action = 'reveal' AND username = %s", (username,))


def test_a_reveal_is_audited_once_per_request_and_a_masked_read_is_not(world):
    inc = world["incidents"]["mine"]
    before = {r: _audit_rows(world["dsn"], USERS[r]) for r in ("dispatcher", "analyst")}
    api_get(world, "dispatcher", inc)
    api_get(world, "analyst", inc)
    assert _audit_rows(world["dsn"], "demo-dispatcher") == before["dispatcher"] + 1
    assert _audit_rows(world["dsn"], "demo-analyst") == before["analyst"]
    detail = scalar(world["dsn"], "SELECT detail FROM audit_log WHERE action = 'reveal' AND username = %s "
                                  "ORDER BY id DESC LIMIT 1", ("demo-dispatcher",))
    assert "description" in detail["revealed"][f"incident:{inc[0]}"]
    # a list of many incidents is still one row, naming each incident revealed
    lon, lat = inc[2], inc[3]
    n = _audit_rows(world["dsn"], "demo-dispatcher")
    r = requests.get(f"{world['url']}/api/v1/incidents", headers=_h(world["tokens"]["dispatcher"]),
                     params={"bbox": f"{lon - 0.05},{lat - 0.05},{lon + 0.05},{lat + 0.05}", "limit": 50})
    assert r.ok and len(r.json()["items"]) > 1
    assert _audit_rows(world["dsn"], "demo-dispatcher") == n + 1


def _workers(dsn) -> dict[str, tuple[str, str]]:
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id::text, unit_code, name FROM grid_worker")
        out = {i: (u, n) for i, u, n in cur.fetchall()}
    conn.close()
    return out


@pytest.mark.parametrize("role", ROLES)
def test_responders_are_the_callers_workers_named_as_the_role_may_see(world, role):
    inc = world["incidents"]["mine"]
    r = requests.get(f"{world['url']}/api/v1/incidents/{inc[0]}/responders", params={"limit": 100},
                     headers=_h(world["tokens"][role]))
    if not expected(role, "mine", world):
        assert r.status_code == 404
        return
    assert r.status_code == 200, r.text
    workers = _workers(world["dsn"])
    unit = world["actors"][role].unit_code
    body = r.json()
    for e in body["items"] + body["unreachable"]:
        if e["kind"] != "worker":
            continue
        home, name = workers[e["ref"]]
        assert home.startswith(unit), f"{role} got worker {e['ref']} of {home}"
        assert e["name"] == (name if role in SEES_NAMES else policy.mask_value(name, "name"))


def test_a_route_from_a_worker_masks_the_label_and_refuses_other_jurisdictions(world):
    inc = world["incidents"]["mine"]
    worker_id = world["actors"]["worker"].worker_id
    to = f"{inc[2]},{inc[3]}"
    name = scalar(world["dsn"], "SELECT name FROM grid_worker WHERE id = %s", (worker_id,))
    has_fix = scalar(world["dsn"], "SELECT count(*) FROM worker_position WHERE worker_id = %s", (worker_id,))
    for role in ("dispatcher", "analyst", "kiosk", "town_leader", "worker"):
        r = requests.get(f"{world['url']}/api/v1/routes", params={"from": f"worker:{worker_id}", "to": to},
                         headers=_h(world["tokens"][role]))
        inside = world["actors"]["worker"].unit_code.startswith(world["actors"][role].unit_code)
        if not inside:
            assert r.status_code == 404, (role, r.text)
            continue
        if not has_fix:
            assert r.status_code == 422
            continue
        assert r.status_code == 200, (role, r.text)
        label = r.json()["properties"]["from"]["label"]
        assert label == (name if role in SEES_NAMES else policy.mask_value(name, "name")), role


def test_worker_positions_on_the_map_follow_the_jurisdiction_and_a_kiosk_gets_none(world):
    for role in ROLES:
        r = requests.get(f"{world['url']}/layers/worker_positions.geojson", headers=_h(world["tokens"][role]),
                         params={"unit": ""})
        if role == "kiosk":
            assert r.status_code == 403, r.text
            continue
        assert r.status_code == 200, (role, r.text[:200])
        unit = world["actors"][role].unit_code
        for f in r.json()["features"]:
            assert f["properties"]["unit_code"].startswith(unit)
            assert "worker_name" not in f["properties"] and "phone" not in f["properties"]


def test_a_unit_outside_the_jurisdiction_is_403_on_the_map_and_in_lists(world):
    h = _h(world["tokens"]["town_leader"])
    r = requests.get(f"{world['url']}/layers/incidents.geojson", headers=h, params={"unit": "150623001", "zoom": 9})
    assert r.status_code == 403 and r.json()["error"]["message"]
    r = requests.get(f"{world['url']}/api/v1/incidents", headers=h, params={"unit": "150623001"})
    assert r.status_code == 403
    r = requests.get(f"{world['url']}/layers/nope.geojson", headers=h)
    assert r.status_code == 404


def test_the_map_gaps_layer_is_the_coverage_apis_gaps_and_a_kiosk_gets_no_positions_anywhere(world):
    h = _h(world["tokens"]["town_leader"])
    api = requests.get(f"{world['url']}/api/v1/coverage/gaps", headers=h, params={"kind": "governance_centre"})
    layer = requests.get(f"{world['url']}/layers/coverage_gaps.geojson", headers=h,
                         params={"kind": "governance_centre"})
    assert api.status_code == 200 and layer.status_code == 200
    assert {f["id"] for f in api.json()["features"]} == {f["id"] for f in layer.json()["features"]}
    assert all(f["id"].startswith(TOWN) for f in layer.json()["features"])
    kiosk = _h(world["tokens"]["kiosk"])
    r = requests.get(f"{world['url']}/ogc/collections/worker_positions/items", headers=kiosk)
    assert r.status_code == 403 and "read-only" in r.text


def test_live_events_reach_only_the_callers_jurisdiction_and_the_department_its_own_cases(world):
    from served import Stream

    def report_at(inc):
        body = {"id": str(uuid.uuid4()), "category": "public_order", "description": "直播测试",
                "lon": inc[2], "lat": inc[3], "observed_at": datetime.now(timezone.utc).isoformat()}
        r = requests.post(world["url"] + "/api/v1/incidents", json=body, headers=_h(world["tokens"]["dispatcher"]))
        assert r.status_code == 201, r.text
        return body["id"]

    def act(iid, action, **body):
        r = requests.post(f"{world['url']}/api/v1/incidents/{iid}/actions/{action}", json=body,
                          headers=_h(world["tokens"]["dispatcher"]))
        assert r.status_code == 200, r.text

    dept_code = world["actors"]["department"].department_code
    town = Stream(world["url"], world["tokens"]["town_leader"])
    dept = Stream(world["url"], world["tokens"]["department"])
    try:
        assert town.status == 200 and dept.status == 200
        outside = report_at(world["incidents"]["other"])  # another town, not the department's
        inside = report_at(world["incidents"]["town"])    # 上海庙镇, not the department's (yet)
        town.wait_for(lambda e: e["data"].get("incident_id") == inside)
        act(inside, "accept")
        act(inside, "dispatch", department=dept_code)     # now it is theirs: they hear of it, by id
        got = dept.wait_for(lambda e: e["data"].get("incident_id") == inside)["data"]
        assert got["department_code"] == dept_code and got["state"] == "dispatched"
        assert not [e for e in town.events() if e["data"].get("incident_id") == outside]
        # before the dispatch the case was nobody's department: nothing of it reached them
        heard = [e["data"] for e in dept.events() if "incident_id" in e["data"]]
        assert all(e["department_code"] == dept_code for e in heard)
        assert not [e for e in heard if e["incident_id"] == outside]
        assert [e["action"] for e in heard if e["incident_id"] == inside] == ["dispatch"]
        # reassigned: escalated (still theirs: heard by id), then dispatched to another department,
        # which they hear as a bare resync (their table drops the case; where it went is not said)
        conn = connect(world["dsn"])
        with conn.cursor() as cur:
            cur.execute("SELECT code FROM department WHERE region_code = %s AND code <> %s ORDER BY code LIMIT 1",
                        (world["actors"]["department"].region_code, dept_code))
            elsewhere = cur.fetchone()[0]
        conn.close()
        act(inside, "escalate")
        escalated = dept.wait_for(lambda e: e["data"].get("incident_id") == inside
                                  and e["data"]["action"] == "escalate")["id"]
        act(inside, "dispatch", department=elsewhere)
        moved = town.wait_for(lambda e: e["data"].get("incident_id") == inside and e["data"]["action"] == "dispatch"
                              and e["data"]["department_code"] == elsewhere)["id"]
        assert moved > escalated

        def after_escalation() -> list[dict]:
            events = dept.events()
            return events[[e["id"] for e in events].index(escalated) + 1:]

        dept.wait_for(lambda _e: {"resync": True} in [e["data"] for e in after_escalation()])
        assert not [e for e in after_escalation() if "incident_id" in e["data"]]  # nothing of it by id
    finally:
        town.close()
        dept.close()
