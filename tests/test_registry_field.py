"""The registry in the field app (issue #15): a grid worker keeps houses, households, people and
the household visit log (日走访) from the phone, offline first. Over HTTP: writes with an
``Idempotency-Key`` are made once (a replay gets the same answer, another body under the key 409),
the house list, visit flags, jurisdiction. In Chromium as a phone (390×844): adds made offline
are sent when the network is back and stored once even when replayed; a wrong ID check digit is
refused with the message; a house outside the worker's cell is refused and the phone says so;
ID numbers and phones are masked; a visit is logged."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

import pytest
from test_field_app import _one, _page, _phone, _sign_in, browser, server, shot  # noqa: F401  (fixtures reused)

from data.users import create_user, issue_token
from db.core import connect
from domain import idcard

WORKER = "demo-worker"


def _call(url, body=None, token=None, key=None, method=None):
    """(status, headers, JSON) of a request; ``key`` goes in the Idempotency-Key header."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = None if body is None else json.dumps(body).encode()
    try:
        with urlopen(Request(url, data=data, headers=headers, method=method or ("POST" if data else "GET"))) as r:
            return r.status, r.headers, json.loads(r.read() or b"{}")
    except HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def reg(server, quiet_dsn):  # noqa: F811
    """Tokens of the demo worker, a worker of another town (a fresh account) and a leader; a point
    in the demo worker's cell and one in the other worker's cell."""
    conn = connect(quiet_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT g.code FROM app_user u JOIN grid_unit g ON g.code = u.unit_code WHERE u.username = %s",
                    (WORKER,))
        cell = cur.fetchone()[0]
        cur.execute("SELECT w.code, w.unit_code FROM grid_worker w WHERE left(w.unit_code, 9) <> left(%s, 9) "
                    "ORDER BY w.id LIMIT 1", (cell,))
        other_code, other_cell = cur.fetchone()
    name = f"rfw-{uuid.uuid4().hex[:8]}"
    create_user(conn, name, "field-pass-1", "worker", worker_code=other_code)
    tokens = {"worker": issue_token(conn, WORKER, name="regfield"), "other": issue_token(conn, name, name="regfield"),
              "leader": issue_token(conn, "demo-leader", name="regfield")}
    conn.commit()
    conn.close()
    point = _one(quiet_dsn, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_unit "
                            "WHERE code = %s) s", (cell,))
    other_point = _one(quiet_dsn, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_unit "
                                  "WHERE code = %s) s", (other_cell,))
    return {"url": server + "/api/v1/registry", "tokens": tokens, "cell": cell, "other_cell": other_cell,
            "point": point, "other_point": other_point, "other_user": name}


def test_a_write_key_makes_a_registry_write_once_and_refuses_another_body(reg, quiet_dsn):
    url, tok = reg["url"], reg["tokens"]["worker"]
    lon, lat = reg["point"]
    house = {"uid": str(uuid.uuid4()), "address": "幂等路7号", "use": "residential", "lon": lon, "lat": lat}
    key = str(uuid.uuid4())
    s1, h1, first = _call(url + "/houses", house, tok, key)
    assert s1 == 201, first
    s2, h2, second = _call(url + "/houses", house, tok, key)  # the outbox sends it again
    assert (s2, second) == (200, first) and h2["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in h1
    assert _one(quiet_dsn, "SELECT count(*) FROM reg_house WHERE uid = %s", (house["uid"],))[0] == 1
    s3, _h, body = _call(url + "/houses", {**house, "address": "幂等路8号"}, tok, key)
    assert s3 == 409 and body["error"]["code"] == "id_reused"
    assert _one(quiet_dsn, "SELECT address FROM reg_house WHERE uid = %s", (house["uid"],))[0] == "幂等路7号"
    # the same key from another account is not its write either
    assert _call(url + "/houses", house, reg["tokens"]["other"], key)[0] == 409
    # an edit is a new key with the record's uid: it updates the one row
    s4, _h, edited = _call(url + "/houses", {**house, "address": "幂等路8号"}, tok, str(uuid.uuid4()))
    assert s4 == 200 and edited["id"] == first["id"]
    assert _one(quiet_dsn, "SELECT address FROM reg_house WHERE uid = %s", (house["uid"],))[0] == "幂等路8号"
    assert _call(url + "/houses", house, tok, "not-a-uuid")[0] == 422

    # households and people reference a house or household by its client UUID (made offline)
    hh = {"uid": str(uuid.uuid4()), "house": house["uid"], "kind": "family"}
    hkey = str(uuid.uuid4())
    s, _h, a = _call(url + "/households", hh, tok, hkey)
    assert s == 201 and _call(url + "/households", hh, tok, hkey)[2] == a
    assert _call(url + "/households", {**hh, "kind": "collective"}, tok, hkey)[0] == 409
    number = idcard.make("150623", date(1979, 3, 9), 246)
    person = {"uid": str(uuid.uuid4()), "household": hh["uid"], "name": "乌云", "id_number": number,
              "phone": "13700001234", "ethnicity": "蒙古族", "residence": "registered"}
    pkey = str(uuid.uuid4())
    s, _h, p1 = _call(url + "/people", person, tok, pkey)
    assert s == 201, p1
    assert _call(url + "/people", person, tok, pkey)[:3:2] == (200, p1)
    assert _call(url + "/people", {**person, "phone": "13700009999"}, tok, pkey)[0] == 409
    assert _one(quiet_dsn, "SELECT count(*) FROM reg_person WHERE uid = %s", (person["uid"],))[0] == 1
    # the key table holds no clear ID number or phone, and no plain hash of one
    stored = _one(quiet_dsn, "SELECT answer::text || payload_sha256 FROM reg_write WHERE key = %s", (pkey,))[0]
    assert number not in stored and "13700001234" not in stored
    # the server checks the ID number's check digit (GB 11643) whatever the phone did
    wrong = number[:-1] + next(c for c in "0123456789X" if c != number[-1])
    s, _h, bad = _call(url + "/people", {**person, "uid": str(uuid.uuid4()), "id_number": wrong}, tok,
                       str(uuid.uuid4()))
    assert s == 422 and "check digit" in bad["error"]["fields"]["id_number"]


def test_houses_list_search_visit_flags_and_jurisdiction(reg, quiet_dsn):
    url, tok, other = reg["url"], reg["tokens"]["worker"], reg["tokens"]["other"]
    lon, lat = reg["point"]
    house = {"uid": str(uuid.uuid4()), "address": "查找巷12号", "lon": lon, "lat": lat}
    assert _call(url + "/houses", house, tok, str(uuid.uuid4()))[0] == 201
    s, _h, body = _call(url + "/houses?" + urlencode({"q": "查找巷"}), token=tok)
    assert s == 200 and [h["uid"] for h in body["items"]] == [house["uid"]]
    s, _h, body = _call(url + "/houses?limit=500", token=tok)
    assert s == 200 and body["items"] and all(h["cell_code"] == reg["cell"] for h in body["items"])
    assert _call(url + "/houses?" + urlencode({"unit": reg["other_cell"]}), token=tok)[0] == 403
    assert _call(url + "/houses", token=reg["tokens"]["leader"])[0] == 403  # command works from counts
    # the other town's worker can neither edit this house nor read it
    hid = _one(quiet_dsn, "SELECT id FROM reg_house WHERE uid = %s", (house["uid"],))[0]
    assert _call(url + "/houses", {**house, "address": "改"}, other, str(uuid.uuid4()))[0] == 403
    assert _call(url + f"/houses/{hid}", token=other)[0] == 404
    olon, olat = reg["other_point"]
    assert _call(url + "/houses", {**house, "uid": str(uuid.uuid4()), "lon": olon, "lat": olat}, tok,
                 str(uuid.uuid4()))[0] == 403
    # a visit (日走访) to a household named by its UUID, with flags; a replay stores it once
    hh = {"uid": str(uuid.uuid4()), "house": house["uid"]}
    assert _call(url + "/households", hh, tok, str(uuid.uuid4()))[0] == 201
    visit = {"id": str(uuid.uuid4()), "place": "查找巷12号", "note": "老人独居", "flags": ["needs_help"],
             "visited_at": datetime.now(timezone.utc).isoformat()}
    assert _call(url + f"/households/{hh['uid']}/visits", visit, tok)[0] == 201
    assert _call(url + f"/households/{hh['uid']}/visits", visit, tok)[0] == 200
    assert _call(url + f"/households/{hh['uid']}/visits", {**visit, "flags": ["dispute"]}, tok)[0] == 409
    assert _call(url + f"/households/{hh['uid']}/visits", {**visit, "id": str(uuid.uuid4()),
                                                          "flags": ["party"]}, tok)[0] == 422
    assert _call(url + f"/households/{hh['uid']}/visits", {**visit, "id": str(uuid.uuid4())}, other)[0] == 404
    hid = _one(quiet_dsn, "SELECT id FROM reg_household WHERE uid = %s", (hh["uid"],))[0]
    s, _h, got = _call(url + f"/households/{hid}", token=tok)
    assert [(v["id"], v["flags"]) for v in got["visits"]] == [(visit["id"], ["needs_help"])]
    assert _one(quiet_dsn, "SELECT count(*) FROM reg_household_visit WHERE visit_id = %s", (visit["id"],))[0] == 1


def _outbox(page):
    """The phone's outbox as the app keeps it (IndexedDB)."""
    return page.evaluate("() => window.FieldStore.all()")


def _sync_until_sent(page, kinds, timeout_s=60):
    """Nudge the outbox (the app also retries every 15 s) until no item of ``kinds`` is pending."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        items = [i for i in _outbox(page) if i["kind"] in kinds]
        if items and all(i["status"] != "pending" for i in items):
            return items
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(700)
    raise AssertionError(f"still pending: {[(i['kind'], i['status']) for i in _outbox(page)]}")


def test_a_worker_keeps_the_registry_offline_and_each_write_lands_once(server, browser, reg, quiet_dsn):  # noqa: F811
    lon, lat = reg["point"]
    ctx = _phone(browser, lon, lat)
    sent: dict[str, list[tuple[str, str]]] = {}

    def answer_lost_once(route):
        """The first send of every registry write reaches the server, but its answer is lost."""
        req = route.request
        key = req.headers.get("idempotency-key")
        if req.method != "POST" or not key:
            return route.continue_()
        sent.setdefault(key, []).append((req.url, req.post_data))
        if len(sent[key]) == 1:
            route.fetch()
            return route.abort("connectionreset")
        return route.continue_()

    ctx.route("**/api/v1/registry/**", answer_lost_once)
    page = _page(ctx)
    _sign_in(page, server, WORKER, "onemap-worker")
    page.click("#tabs button[data-view=v-reg]")
    page.wait_for_selector("#g-houses li", timeout=15_000)  # the houses of the worker's cell
    assert page.locator("#tabs button[data-view=v-reg]").get_attribute("class") == "on"
    shot(page, "reg-houses")

    ctx.set_offline(True)
    page.click("#g-add-house")
    page.wait_for_function("() => document.querySelector('#gh-lat').value !== ''", timeout=15_000)  # from GPS
    assert abs(float(page.input_value("#gh-lon")) - lon) < 1e-5
    page.fill("#gh-addr", "团结路18号 <i>东院</i>")
    page.select_option("#gh-use", "mixed")
    page.fill("#gh-floors", "2")
    shot(page, "reg-house-form")
    page.click("#gh-form button[type=submit]")
    item = page.locator("#g-houses li button", has_text="团结路18号")
    item.wait_for(timeout=10_000)
    assert "<i>东院</i>" in item.inner_text()  # text from the user stays text
    item.click()
    page.wait_for_selector("#v-house:not([hidden])")
    page.click("#h-add-hh")
    page.wait_for_selector("#h-households li button", timeout=10_000)
    page.click("#h-households li button")
    page.wait_for_selector("#v-household:not([hidden])")
    page.click("#hh-add-person")
    number = idcard.make("150623", date(1986, 5, 17), 135)
    wrong = number[:-1] + next(c for c in "0123456789X" if c != number[-1])
    page.fill("#gp-name", "巴特尔")
    page.fill("#gp-id", wrong)
    assert "校验位不符" in page.inner_text("#gp-idinfo")  # checked in the browser as it is typed
    page.click("#gp-form button[type=submit]")
    assert page.inner_text("#gp-error").startswith("身份证号校验位不符")
    shot(page, "reg-id-refused")
    page.fill("#gp-id", number)
    assert page.inner_text("#gp-idinfo") == "身份证号校验通过：男，出生日期 1986-05-17"
    page.fill("#gp-phone", "13912340678")
    page.select_option("#gp-eth", "蒙古族")
    page.select_option("#gp-res", "migrant")
    page.fill("#gp-rel", "户主")
    assert page.locator("#gp-error").is_hidden() and page.locator("#gp-noid").is_hidden()
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    shot(page, "reg-person-form")
    page.click("#gp-form button[type=submit]")
    person = page.locator("#hh-people li.person", has_text="巴特尔")
    person.wait_for(timeout=10_000)
    assert person.locator(".idn").inner_text().endswith(idcard.mask(number))  # masked on the phone too
    assert person.locator(".phn").inner_text().endswith("139****0678")
    page.fill("#hv-note", "新迁入户，已登记")
    page.check("#hv-flags input[value=changed]")
    page.click("#hv-form button[type=submit]")
    page.wait_for_selector("#hh-visits li", timeout=10_000)
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    shot(page, "reg-household-offline")
    kinds = {"reg_house", "reg_household", "reg_person", "reg_visit"}
    queued = {i["kind"]: i for i in _outbox(page) if i["kind"] in kinds}
    assert set(queued) == kinds and all(i["status"] == "pending" for i in queued.values())
    house_uid = queued["reg_house"]["body"]["uid"]
    assert _one(quiet_dsn, "SELECT count(*) FROM reg_house WHERE uid = %s", (house_uid,))[0] == 0

    ctx.set_offline(False)
    done = {i["kind"]: i for i in _sync_until_sent(page, kinds)}
    assert {k: i["status"] for k, i in done.items()} == dict.fromkeys(kinds, "sent"), done
    hh_uid, person_uid = queued["reg_household"]["body"]["uid"], queued["reg_person"]["body"]["uid"]
    visit_id = queued["reg_visit"]["id"]
    one = {"reg_house": ("reg_house", "uid", house_uid), "reg_household": ("reg_household", "uid", hh_uid),
           "reg_person": ("reg_person", "uid", person_uid), "reg_visit": ("field_visit", "id", visit_id)}
    for table, column, value in one.values():
        assert _one(quiet_dsn, f"SELECT count(*) FROM {table} WHERE {column} = %s", (value,))[0] == 1, table
    # every write reached the server twice (its first answer was lost): stored once all the same
    assert all(len(sent[i["id"]]) == 2 for i in queued.values()), sent
    assert _one(quiet_dsn, "SELECT address, use, floors FROM reg_house WHERE uid = %s", (house_uid,)) == (
        "团结路18号 <i>东院</i>", "mixed", 2)
    assert _one(quiet_dsn, "SELECT sex, birth_date::text, ethnicity, residence, id_masked, phone_masked FROM reg_person "
                           "WHERE uid = %s", (person_uid,)) == ("M", "1986-05-17", "蒙古族", "migrant",
                                                                idcard.mask(number), "139****0678")
    assert _one(quiet_dsn, "SELECT flags FROM reg_household_visit WHERE visit_id = %s", (visit_id,))[0] == ["changed"]
    # a forced replay of every request, byte for byte, changes nothing and gets the first answer
    for key, calls in sent.items():
        url, body = calls[0]
        status, _h, answer = _call(url, json.loads(body), reg["tokens"]["worker"], key)
        assert status == 200, (url, answer)
    for table, column, value in one.values():
        assert _one(quiet_dsn, f"SELECT count(*) FROM {table} WHERE {column} = %s", (value,))[0] == 1, table
    # once sent, the clear ID number and phone are gone from the phone's storage
    stored = json.dumps(_outbox(page), ensure_ascii=False)
    assert number not in stored and "13912340678" not in stored

    # the household as the server has it now: masked, and a reveal needs a reason (audited)
    page.click("#hh-back")
    page.click("#h-households li button")
    person = page.locator("#hh-people li.person", has_text="巴特尔")
    person.locator("button[data-act=reveal]").wait_for(timeout=15_000)
    assert number not in page.inner_text("body") and "13912340678" not in page.inner_text("body")
    assert "新迁入户" in page.inner_text("#hh-visits") and "信息有变动" in page.inner_text("#hh-visits")
    shot(page, "reg-household")
    person.locator("button[data-act=reveal]").click()
    page.fill("#rv-reason", "核实")
    page.click("#rv-go")
    assert page.inner_text("#rv-error") == "请写明理由（至少4个字）"
    page.fill("#rv-reason", "核实流动人口登记信息")
    page.click("#rv-go")
    page.wait_for_function(f"() => document.querySelector('#hh-people').textContent.includes('{number}')",
                           timeout=10_000)
    pid = _one(quiet_dsn, "SELECT id FROM reg_person WHERE uid = %s", (person_uid,))[0]
    assert _one(quiet_dsn, "SELECT count(*) FROM audit_log WHERE action = 'reveal' AND object_type = 'person' "
                           "AND object_id = %s AND detail->>'reason' = %s", (str(pid), "核实流动人口登记信息"))[0] == 1

    # an edit is a new write of the same record: the house keeps its one row
    page.click("#hh-back")
    page.click("#h-edit")
    assert page.input_value("#gh-addr") == "团结路18号 <i>东院</i>"
    page.fill("#gh-addr", "团结路20号")
    page.click("#gh-form button[type=submit]")
    page.wait_for_selector("#v-house:not([hidden])")
    _sync_until_sent(page, {"reg_house"})
    assert _one(quiet_dsn, "SELECT count(*), min(address) FROM reg_house WHERE uid = %s", (house_uid,)) == (1, "团结路20号")
    assert page.inner_text("#h-title") == "团结路20号"

    # a house in another town's cell: the server refuses it and the phone says why, in its language
    page.click("#h-back")
    page.click("#g-add-house")
    page.wait_for_function("() => document.querySelector('#gh-lat').value !== ''", timeout=15_000)
    olon, olat = reg["other_point"]
    page.fill("#gh-addr", "别镇路1号")
    page.fill("#gh-lat", f"{olat:.6f}")
    page.fill("#gh-lon", f"{olon:.6f}")
    page.click("#gh-form button[type=submit]")
    refused = [i for i in _sync_until_sent(page, {"reg_house"}) if i["body"]["address"] == "别镇路1号"]
    assert refused[0]["status"] == "refused" and refused[0]["reason"] == "不在您的网格内，无权新增或修改"
    assert _one(quiet_dsn, "SELECT count(*) FROM reg_house WHERE address = '别镇路1号'")[0] == 0
    page.click("#tabs button[data-view=v-report]")
    page.wait_for_selector("#outbox li[data-status=refused]", timeout=10_000)
    assert "不在您的网格内" in page.inner_text("#outbox")
    shot(page, "reg-refused", bottom=True)
    page.click("#lang")  # English by the switch
    page.click("#tabs button[data-view=v-reg]")
    assert page.inner_text("#tabs button[data-view=v-reg]").endswith("Registry")
    assert "Outside your cell" in page.inner_text("#outbox")
    page.wait_for_selector("#g-houses li", timeout=15_000)
    shot(page, "reg-houses-en")
    page.click("#lang")
    assert ctx.hosts == {urlsplit(server).netloc}, ctx.hosts  # nothing from the internet
    assert not [e for e in ctx.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e
                and "ERR_CONNECTION_RESET" not in e and "status of 403" not in e], ctx.errors
    ctx.close()
