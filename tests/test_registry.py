"""The "9+X" registries (issue #15): the ID check digit, the demo registry against the cell totals,
clear ID numbers only through the audited reveal, masks per role, jurisdiction on every surface
(API, map layer, OGC, export), the Excel round trip and a broken sheet refused with nothing
written, the retention rule."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest
import requests
from openpyxl import load_workbook

from data import registry_xlsx
from data.users import actor_for_token, issue_token
from db.core import app_dsn, connect
from domain import idcard, policy
from domain import registry as vocab

from conftest import scalar

USERS = {"leader": "demo-leader", "town_leader": "demo-leader-shanghaimiao", "dispatcher": "demo-dispatcher",
         "analyst": "demo-analyst", "department": "demo-department", "worker": "demo-worker",
         "kiosk": "demo-leader", "admin": "demo-admin"}
TOWN = "150623002"


# -- pure: the check digit and the X declarations ------------------------------------------

def test_the_gb11643_check_digit_and_what_an_id_number_says():
    assert idcard.check_digit("11010519491231002") == "X"  # the standard's own example
    info = idcard.parse("11010519491231002x")
    assert (info.number, info.area, info.birth_date, info.sex) == ("11010519491231002X", "110105",
                                                                  date(1949, 12, 31), "F")
    made = idcard.make("150623", date(1990, 2, 28), 137)
    assert idcard.parse(made).sex == "M" and idcard.parse(made).birth_date == date(1990, 2, 28)
    for i in range(17):  # any one mistyped digit is caught
        wrong = made[:i] + str((int(made[i]) + 1) % 10) + made[i + 1:]
        with pytest.raises(ValueError):
            idcard.parse(wrong)
    other = next(c for c in "0123456789X" if c != made[-1])
    for bad, why in (("15062319900230137X", "not a date"), ("1506231990022813", "18 characters"),
                     (made[:17] + other, "check digit")):
        with pytest.raises(ValueError, match=why):
            idcard.parse(bad)
    assert idcard.mask(made) == made[:3] + "*" * 11 + made[-4:]
    assert idcard.mask_phone("13812345678") == "138****5678"


def test_an_x_record_type_is_declared_as_data_and_its_records_follow_it():
    fields = vocab.check_spec([{"key": "herd", "label": "牲畜数", "type": "int", "required": True, "min": 0},
                               {"key": "pasture", "label": "草场", "type": "choice", "choices": ["天然", "人工"]}])
    assert vocab.check_record(fields, {"herd": 40, "pasture": "天然"}) == {"herd": 40, "pasture": "天然"}
    with pytest.raises(ValueError) as exc:
        vocab.check_record(fields, {"herd": -1, "pasture": "沙地", "colour": "red"})
    assert set(exc.value.args[1]) == {"herd", "pasture", "colour"}
    with pytest.raises(ValueError, match="key 'herd' repeated"):
        vocab.check_spec([{"key": "herd", "label": "a", "type": "int"}, {"key": "herd", "label": "b", "type": "text"}])
    with pytest.raises(ValueError, match="lists its choices"):
        vocab.check_spec([{"key": "x", "label": "x", "type": "choice"}])


# -- the demo registry ----------------------------------------------------------------------

def test_the_registry_counts_per_cell_equal_the_cell_totals_the_dashboard_shows(demo_dsn):
    assert scalar(demo_dsn, "SELECT count(*) FROM reg_cell_counts r JOIN cell_population c USING (cell_code) "
                            "WHERE r.population <> c.population OR r.households <> c.households") == 0
    assert scalar(demo_dsn, "SELECT sum(population) FROM reg_cell_counts") == scalar(
        demo_dsn, "SELECT sum(population) FROM cell_population") == 80_000
    # every house lies in the cell it is filed under, as the database decides it
    assert scalar(demo_dsn, "SELECT count(*) FROM reg_house WHERE grid_cell_at(region_code, geom) "
                            "IS DISTINCT FROM cell_code") == 0
    assert scalar(demo_dsn, "SELECT bool_and(synthetic) FROM reg_person") is True


def test_demo_id_numbers_are_valid_and_agree_with_sex_and_birth_date(demo_dsn):
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT s.id_number, p.sex, p.birth_date, p.id_masked, p.id_hash = reg_id_hash(p.region_code, s.id_number) "
                    "FROM reg_person p JOIN reg_person_secret s ON s.person_id = p.id "
                    "WHERE s.id_number IS NOT NULL ORDER BY p.id LIMIT 2000")
        rows = cur.fetchall()
        cur.execute("SELECT count(DISTINCT ethnicity), count(*) FILTER (WHERE ethnicity = '蒙古族') FROM reg_person")
        kinds, mongol = cur.fetchone()
    conn.close()
    assert len(rows) == 2000 and kinds >= 3 and 0.15 < mongol / 80_000 < 0.45
    for number, sex, born, masked, hashed in rows:
        info = idcard.parse(number)
        assert (info.sex, info.birth_date, masked, hashed) == (sex, born, idcard.mask(number), True)


# -- least privilege: no clear value without the reveal path -------------------------------

@pytest.fixture
def app_conn(demo_dsn):
    conn = connect(app_dsn(demo_dsn))
    yield conn
    conn.rollback()
    conn.close()


def _user_ids(dsn) -> dict[str, int]:
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT username, id FROM app_user WHERE username LIKE 'demo-%%'")
        out = dict(cur.fetchall())
    conn.close()
    return out


def _worker_person(dsn) -> tuple[int, str]:
    return (scalar(dsn, "SELECT p.id FROM reg_person p JOIN reg_person_secret s ON s.person_id = p.id "
                        "JOIN app_user u ON u.username = 'demo-worker' WHERE p.cell_code = u.unit_code "
                        "AND s.id_number IS NOT NULL AND s.phone IS NOT NULL ORDER BY p.id LIMIT 1"),
            scalar(dsn, "SELECT unit_code FROM app_user WHERE username = 'demo-worker'"))


@pytest.mark.parametrize("statement", [
    "SELECT id_number FROM reg_person_secret LIMIT 1",
    "SELECT key FROM reg_key",
    "UPDATE reg_person SET id_masked = 'x' WHERE id = 1",
    "UPDATE reg_person SET id_hash = 'x' WHERE id = 1",
    "DELETE FROM reg_person WHERE id = 1",
    "DELETE FROM reg_followup WHERE true",
    "SELECT reg_retention_purge('150623', 0, now())",
])
def test_the_app_role_cannot_read_clear_numbers_or_rewrite_their_masks(app_conn, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), app_conn.cursor() as cur:
        cur.execute(statement)


def test_the_reveal_function_needs_a_reason_a_role_that_may_and_the_jurisdiction(app_conn, demo_dsn):
    pid, _cell = _worker_person(demo_dsn)
    ids = _user_ids(demo_dsn)
    before = scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE object_type = 'person'")
    with app_conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InvalidParameterValue):
            cur.execute("SELECT * FROM reg_person_reveal(%s, %s, %s)", (pid, ids["demo-worker"], "  "))
        app_conn.rollback()
        allowed = set()
        for role, username in USERS.items():
            try:
                cur.execute("SELECT * FROM reg_person_reveal(%s, %s, %s)", (pid, ids[username], "核实户籍信息"))
                number, phone = cur.fetchone()
                assert idcard.parse(number) and phone
                allowed.add(role)
                app_conn.rollback()
            except psycopg2.errors.InsufficientPrivilege:
                app_conn.rollback()
        # a person outside the worker's cell
        other = scalar(demo_dsn, "SELECT id FROM reg_person WHERE cell_code <> %s ORDER BY id LIMIT 1", (_cell,))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM reg_person_reveal(%s, %s, %s)", (other, ids["demo-worker"], "核实户籍信息"))
    # the SQL's roles are domain/policy.py's id_number class (kiosk = a leader account here)
    assert allowed == {r for r in USERS if r not in ("kiosk", "town_leader")} & policy.SEES[policy.ID_NUMBER]
    assert scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE object_type = 'person'") == before  # rolled back


# -- the API and the other surfaces ---------------------------------------------------------

@pytest.fixture(scope="module")
def world(demo_server, demo_dsn):
    return make_world(demo_server, demo_dsn)


def make_world(demo_server: str, demo_dsn: str) -> dict:
    """Tokens and actors of every demo role, the worker's cell with a point in it, and a cell of another town."""
    conn = connect(demo_dsn)
    tokens, actors = {}, {}
    with conn:
        for role, user in USERS.items():
            tokens[role] = issue_token(conn, user, f"registry-{role}", read_only=role == "kiosk")
            actors[role] = actor_for_token(conn, tokens[role])
    conn.close()
    cell = actors["worker"].unit_code
    lon, lat = (scalar(demo_dsn, f"SELECT ST_{a}(ST_PointOnSurface(geom)) FROM grid_unit WHERE code = %s", (cell,))
                for a in ("X", "Y"))
    other_cell = scalar(demo_dsn, "SELECT code FROM grid_unit WHERE level = 4 AND left(code, 9) <> left(%s, 9) "
                                  "ORDER BY code LIMIT 1", (cell,))
    olon, olat = (scalar(demo_dsn, f"SELECT ST_{a}(ST_PointOnSurface(geom)) FROM grid_unit WHERE code = %s",
                         (other_cell,)) for a in ("X", "Y"))
    return {"url": demo_server, "dsn": demo_dsn, "tokens": tokens, "actors": actors, "cell": cell,
            "point": (lon, lat), "other_cell": other_cell, "other_point": (olon, olat)}


def _h(world, role):
    return {"Authorization": f"Bearer {world['tokens'][role]}"}


def _post(world, role, path, body):
    return requests.post(world["url"] + "/api/v1/registry" + path, json=body, headers=_h(world, role))


def _get(world, role, path, **params):
    return requests.get(world["url"] + "/api/v1/registry" + path, params=params, headers=_h(world, role))


def test_a_worker_adds_a_house_household_and_person_idempotently_inside_their_cell(world):
    lon, lat = world["point"]
    house = {"uid": str(uuid.uuid4()), "address": "测试路1号", "use": "residential", "lon": lon, "lat": lat}
    r = _post(world, "worker", "/houses", house)
    assert r.status_code == 201, r.text
    assert r.json()["cell_code"] == world["cell"]
    assert _post(world, "worker", "/houses", house).status_code == 200  # a retry stores it once
    assert scalar(world["dsn"], "SELECT count(*) FROM reg_house WHERE uid = %s", (house["uid"],)) == 1
    olon, olat = world["other_point"]
    r = _post(world, "worker", "/houses", {**house, "uid": str(uuid.uuid4()), "lon": olon, "lat": olat})
    assert r.status_code == 403  # outside the worker's cell
    assert _post(world, "leader", "/houses", {**house, "uid": str(uuid.uuid4())}).status_code == 403  # not a keeper
    assert _post(world, "kiosk", "/houses", {**house, "uid": str(uuid.uuid4())}).status_code == 403
    hh = {"uid": str(uuid.uuid4()), "house": house["uid"]}
    r = _post(world, "worker", "/households", hh)
    assert r.status_code == 201, r.text
    number = idcard.make("150623", date(1985, 7, 1), 123)
    person = {"uid": str(uuid.uuid4()), "household": hh["uid"], "name": "测试人", "id_number": number,
              "phone": "13912345678", "ethnicity": "蒙古族"}
    bad = _post(world, "worker", "/people", {**person, "id_number": number[:-1] + ("0" if number[-1] != "0" else "1")})
    assert bad.status_code == 422 and "id_number" in bad.json()["error"]["fields"]
    r = _post(world, "worker", "/people", person)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    got = _get(world, "worker", f"/people/{pid}").json()
    assert (got["sex"], got["birth_date"], got["id_masked"], got["phone_masked"]) == (
        "M", "1985-07-01", idcard.mask(number), "139****5678")
    assert number not in r.text + str(got) and "13912345678" not in str(got)
    assert _post(world, "worker", "/people", {**person, "uid": str(uuid.uuid4())}).status_code == 422  # same ID
    world["mine"] = {"person": pid, "house": r.json()["id"], "household": hh["uid"], "number": number}


def test_people_lists_are_masked_per_role_and_refused_to_command_and_analysis(world):
    cell = world["cell"]
    for role in ("leader", "analyst", "kiosk", "town_leader"):
        assert _get(world, role, "/people", unit=cell).status_code == 403, role
    seen = {}
    for role in ("worker", "dispatcher", "department", "admin"):
        r = _get(world, role, "/people", unit=cell, limit=500)
        assert r.status_code == 200, (role, r.text)
        items = r.json()["items"]
        assert items and all(p["cell_code"] == cell for p in items)
        assert all(p["id_masked"] is None or "*" in p["id_masked"] for p in items)
        seen[role] = items
    groups = scalar(world["dsn"], "SELECT count(*) FROM reg_special_group WHERE cell_code = %s", (cell,))
    for role, items in seen.items():
        shown = [p["special_groups"] for p in items]
        if role in policy.SEES[policy.SPECIAL_GROUP]:
            assert sum(len(g) for g in shown) == groups
        else:
            assert all(g is None for g in shown), role
    # a worker sees nothing outside their cell, by any path
    assert _get(world, "worker", "/people", unit=world["other_cell"]).status_code == 403
    outside = scalar(world["dsn"], "SELECT id FROM reg_person WHERE cell_code = %s LIMIT 1", (world["other_cell"],))
    assert _get(world, "worker", f"/people/{outside}").status_code == 404
    not_town = scalar(world["dsn"], "SELECT code FROM grid_unit WHERE level = 4 AND code NOT LIKE %s LIMIT 1",
                      (TOWN + "%",))
    assert _get(world, "town_leader", "/counts", unit=not_town).status_code == 403
    assert _get(world, "town_leader", "/counts", unit=TOWN).status_code == 200


def test_a_reveal_needs_a_reason_and_is_audited_by_the_database(world):
    pid, _ = _worker_person(world["dsn"])
    count = "SELECT count(*) FROM audit_log WHERE object_type = 'person' AND object_id = %s"
    before = scalar(world["dsn"], count, (str(pid),))
    r = _post(world, "worker", f"/people/{pid}/reveal", {"reason": ""})
    assert r.status_code == 422 and scalar(world["dsn"], count, (str(pid),)) == before
    for role in ("leader", "analyst", "department", "kiosk"):
        assert _post(world, role, f"/people/{pid}/reveal", {"reason": "查看详细信息"}).status_code == 403, role
    r = _post(world, "worker", f"/people/{pid}/reveal", {"reason": "入户走访核实"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert idcard.parse(body["id_number"]) and idcard.mask(body["id_number"]) == body["id_masked"]
    assert scalar(world["dsn"], count, (str(pid),)) == before + 1
    assert scalar(world["dsn"], "SELECT detail->>'reason' FROM audit_log WHERE object_type = 'person' "
                                "AND object_id = %s ORDER BY id DESC LIMIT 1", (str(pid),)) == "入户走访核实"
    outside = scalar(world["dsn"], "SELECT id FROM reg_person WHERE cell_code = %s LIMIT 1", (world["other_cell"],))
    assert _post(world, "worker", f"/people/{outside}/reveal", {"reason": "入户走访核实"}).status_code == 404
    found = _get(world, "dispatcher", "/people", id_number=body["id_number"]).json()["items"]
    assert [p["id"] for p in found] == [pid]  # looked up by the keyed hash


def test_counts_suppress_small_numbers_and_special_groups_only_for_roles_that_handle_them(world):
    rows = {r["unit_code"]: r for r in _get(world, "leader", "/counts").json()}
    assert len(rows) == 4 and sum(r["population"] for r in rows.values()) >= 80_000
    cell = _get(world, "dispatcher", "/counts", unit=world["cell"]).json()
    assert cell[0]["unit_code"] == world["cell"]
    for role in ("leader", "analyst", "department", "kiosk"):
        assert _get(world, role, "/special-groups").status_code == 403, role
    groups = _get(world, "dispatcher", "/special-groups").json()
    assert {g["kind"] for g in groups} <= set(vocab.SPECIAL_GROUPS) and groups
    assert all(g["members"] is None or g["members"] >= policy.SMALL_COUNT for g in groups)  # dispatcher: suppressed
    admin = _get(world, "admin", "/special-groups").json()
    assert sum(g["members"] for g in admin) == scalar(world["dsn"], "SELECT count(*) FROM reg_special_group g "
                                                                   "JOIN reg_person p ON p.id = g.person_id "
                                                                   "WHERE p.moved_out_at IS NULL")


def test_houses_on_the_map_ogc_and_export_follow_the_jurisdiction(world):
    r = requests.get(world["url"] + "/layers/houses.geojson", headers=_h(world, "worker"), params={"zoom": 10})
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert feats and all(f["properties"]["cell_code"] == world["cell"] for f in feats if f["properties"].get("cluster"))
    r = requests.get(world["url"] + "/layers/houses.geojson", headers=_h(world, "town_leader"), params={"zoom": 10})
    clusters = [f for f in r.json()["features"] if f["properties"].get("cluster")]
    assert clusters and all(f["properties"]["cell_code"].startswith(TOWN) for f in clusters)
    r = requests.get(world["url"] + "/ogc/collections/houses/items", headers=_h(world, "town_leader"),
                     params={"limit": 200})
    assert r.status_code == 200, r.text
    items = r.json()["features"]
    assert items and all(f["properties"]["cell_code"].startswith(TOWN) for f in items)
    assert all(f["properties"]["address"] is None for f in items)  # an address is personal: not for leaders
    assert all(f["properties"]["households"] is None or f["properties"]["households"] >= policy.SMALL_COUNT
               or f["properties"]["households"] == 0 for f in items)
    r = requests.get(world["url"] + "/ogc/collections/houses/items", headers=_h(world, "worker"),
                     params={"limit": 50})
    assert all(f["properties"]["cell_code"] == world["cell"] and f["properties"]["address"]
               for f in r.json()["features"])


def test_a_people_export_needs_a_role_that_may_is_masked_and_audited(world):
    assert _get(world, "leader", "/export", kind="people").status_code == 403
    assert _get(world, "worker", "/export", kind="people").status_code == 403
    assert _get(world, "worker", "/export", kind="dragons").status_code == 422
    audits = "SELECT count(*) FROM audit_log WHERE action = 'registry_export' AND username = 'demo-dispatcher'"
    before = scalar(world["dsn"], audits)
    r = _get(world, "dispatcher", "/export", kind="people", unit=world["cell"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/vnd.openxml")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["人员编号", "户编号", "所属网格", "姓名", "公民身份号码"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows and all(row[2] == world["cell"] for row in rows)
    assert all(row[4] is None or "*" in row[4] for row in rows)
    assert scalar(world["dsn"], audits) == before + 1
    assert scalar(world["dsn"], "SELECT count FROM audit_log WHERE action = 'registry_export' "
                                "AND username = 'demo-dispatcher' ORDER BY id DESC LIMIT 1") == len(rows)
    r = _get(world, "worker", "/export", kind="houses")
    assert r.status_code == 200
    cells = {row[6] for row in load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert cells == {world["cell"]}
    assert _get(world, "worker", "/export", kind="houses", unit=world["other_cell"]).status_code == 403
    house = scalar(world["dsn"], "SELECT id FROM reg_house WHERE cell_code = %s LIMIT 1", (world["cell"],))
    assert _get(world, "leader", f"/houses/{house}").json()["address"] is None
    assert _get(world, "worker", f"/houses/{house}").json()["address"]
    assert _get(world, "town_leader", f"/houses/{house}").status_code == (
        200 if world["cell"].startswith(TOWN) else 404)


def test_incidents_are_linked_to_people_and_houses_and_listed_with_them(world):
    pid, cell = _worker_person(world["dsn"])
    inc = scalar(world["dsn"], "SELECT id::text FROM incident WHERE cell_code = %s ORDER BY received_at DESC LIMIT 1",
                 (cell,))
    house = scalar(world["dsn"], "SELECT id FROM reg_house WHERE cell_code = %s ORDER BY id LIMIT 1", (cell,))
    r = _post(world, "worker", "/incident-links", {"incident_id": inc, "person_id": pid})
    assert r.status_code == 200 and r.json()["created"] is True
    assert _post(world, "worker", "/incident-links", {"incident_id": inc, "person_id": pid}).json()["created"] is False
    assert _post(world, "worker", "/incident-links", {"incident_id": inc, "house_id": house}).status_code == 200
    assert inc in [i["id"] for i in _get(world, "worker", f"/people/{pid}").json()["incidents"]]
    assert inc in [i["id"] for i in _get(world, "worker", f"/houses/{house}").json()["incidents"]]
    other_inc = scalar(world["dsn"], "SELECT id::text FROM incident WHERE left(cell_code, 9) <> left(%s, 9) LIMIT 1",
                       (cell,))
    assert _post(world, "worker", "/incident-links", {"incident_id": other_inc, "person_id": pid}).status_code == 404
    assert _post(world, "worker", "/incident-links", {"incident_id": inc, "person_id": True}).status_code == 422


def test_a_household_visit_goes_to_the_field_log_and_the_households_visit_log(world):
    hh = scalar(world["dsn"], "SELECT id FROM reg_household WHERE cell_code = %s ORDER BY id LIMIT 1", (world["cell"],))
    visit = {"id": str(uuid.uuid4()), "place": "3号院", "note": "入户走访", "visited_at":
             datetime.now(timezone.utc).isoformat()}
    r = _post(world, "worker", f"/households/{hh}/visits", visit)
    assert r.status_code == 201, r.text
    assert _post(world, "worker", f"/households/{hh}/visits", visit).status_code == 200
    got = _get(world, "worker", f"/households/{hh}").json()
    assert [v["id"] for v in got["visits"]].count(visit["id"]) == 1 and got["members"]
    assert scalar(world["dsn"], "SELECT count(*) FROM field_visit WHERE id = %s", (visit["id"],)) == 1
    other = scalar(world["dsn"], "SELECT id FROM reg_household WHERE cell_code = %s LIMIT 1", (world["other_cell"],))
    assert _post(world, "worker", f"/households/{other}/visits", {**visit, "id": str(uuid.uuid4())}).status_code == 404


# -- Excel ----------------------------------------------------------------------------------

def test_excel_round_trip_is_idempotent_and_a_broken_sheet_is_refused_by_row_and_column(world):
    dsn, actor = world["dsn"], world["actors"]["admin"]
    conn = connect(dsn)
    try:
        body, n = registry_xlsx.export(conn, actor, "people", world["cell"])
        conn.commit()
        people = "SELECT count(*) FROM reg_person WHERE cell_code = %s"
        before = scalar(dsn, people, (world["cell"],))
        assert n == before
        assert registry_xlsx.import_file(conn, actor, "people", body) == n  # the export imports back unchanged
        assert scalar(dsn, people, (world["cell"],)) == before
        secrets = scalar(dsn, "SELECT md5(string_agg(s::text, ',' ORDER BY person_id)) FROM reg_person_secret s "
                              "JOIN reg_person p ON p.id = s.person_id WHERE p.cell_code = %s", (world["cell"],))
        wb = load_workbook(io.BytesIO(body))
        ws = wb.worksheets[0]
        number = idcard.make("150623", date(1970, 1, 1), 55)
        ws.append([None, ws["B2"].value, None, "新来的人", number, None, None, "汉族", "户籍人口", "", "", None, None])
        ws["E3"] = number[:-1] + ("1" if number[-1] != "1" else "2")  # row 3: a mistyped ID number
        ws["I4"] = "外星人"                                              # row 4: not in the list
        ws["D5"] = None                                                  # row 5: no name
        out = io.BytesIO()
        wb.save(out)
        with pytest.raises(registry_xlsx.ImportRefused) as exc:
            registry_xlsx.import_file(conn, actor, "people", out.getvalue())
        where = {(e["row"], e["column"], e["header"]) for e in exc.value.extra["errors"]}
        assert {(3, "E", "公民身份号码"), (4, "I", "人口类型"), (5, "D", "姓名")} <= where
        assert scalar(dsn, people, (world["cell"],)) == before  # nothing written, not even the good new row
        assert scalar(dsn, "SELECT md5(string_agg(s::text, ',' ORDER BY person_id)) FROM reg_person_secret s "
                           "JOIN reg_person p ON p.id = s.person_id WHERE p.cell_code = %s", (world["cell"],)) == secrets
        template = load_workbook(io.BytesIO(registry_xlsx.template("houses"))).worksheets[0]
        assert [c.value for c in template[1]][:3] == ["房屋编号", "地址", "用途"]
        assert any("住宅" in (dv.formula1 or "") for dv in template.data_validations.dataValidation)
        with pytest.raises(registry_xlsx.ImportRefused, match="not an xlsx"):
            registry_xlsx.import_file(conn, actor, "houses", b"PK\x03\x04 not really")
    finally:
        conn.rollback()
        conn.close()


def test_an_import_outside_the_jurisdiction_is_refused_whole(world):
    dsn, worker = world["dsn"], world["actors"]["worker"]
    conn = connect(dsn)
    try:
        admin = world["actors"]["admin"]
        body, _ = registry_xlsx.export(conn, admin, "houses", world["other_cell"])
        conn.rollback()
        with pytest.raises(registry_xlsx.ImportRefused) as exc:
            registry_xlsx.import_file(conn, worker, "houses", body)
        assert all("outside your jurisdiction" in e["message"] for e in exc.value.extra["errors"])
    finally:
        conn.rollback()
        conn.close()


# -- retention ------------------------------------------------------------------------------

def test_people_who_moved_away_are_anonymised_after_the_retention_period(demo_dsn):
    conn = connect(demo_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT p.id FROM reg_person p JOIN reg_person_secret s ON s.person_id = p.id "
                        "WHERE s.id_number IS NOT NULL ORDER BY p.id DESC LIMIT 2")
            old, recent = (r[0] for r in cur.fetchall())
            now = datetime(2026, 6, 15, tzinfo=timezone.utc)
            cur.execute("UPDATE reg_person SET moved_out_at = %s WHERE id = %s", (now - timedelta(days=400), old))
            cur.execute("UPDATE reg_person SET moved_out_at = %s WHERE id = %s", (now - timedelta(days=30), recent))
            cur.execute("SELECT reg_retention_purge('150623', 365, %s)", (now,))
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT id, name, id_masked, anonymised, "
                        "(SELECT count(*) FROM reg_person_secret s WHERE s.person_id = p.id) "
                        "FROM reg_person p WHERE id IN (%s, %s) ORDER BY id", (old, recent))
            rows = {r[0]: r[1:] for r in cur.fetchall()}
        assert rows[old] == ("已迁出", None, True, 0)
        assert rows[recent][2:] == (False, 1)
    finally:
        conn.rollback()
        conn.close()


# -- special groups, local "X" types, the command line ---------------------------------------

def test_special_group_members_and_follow_ups_only_by_the_roles_that_handle_them(world):
    pid, _ = _worker_person(world["dsn"])
    for role in ("leader", "analyst", "department"):
        assert _post(world, role, f"/people/{pid}/special-groups", {"kind": "hiv"}).status_code == 403, role
    assert _post(world, "worker", f"/people/{pid}/special-groups", {"kind": "aliens"}).status_code == 422
    r = _post(world, "worker", f"/people/{pid}/special-groups", {"kind": "at_risk_youth", "since": "2026-01-02"})
    assert r.status_code == 200 and r.json()["created"] is True
    sid = r.json()["id"]
    r = _post(world, "worker", f"/special-groups/{sid}/followups", {"kind": "help", "note": "谈心谈话"})
    assert r.status_code == 201, r.text
    assert _post(world, "worker", f"/special-groups/{sid}/followups", {"kind": "hug"}).status_code == 422
    got = _get(world, "worker", f"/people/{pid}").json()
    assert "at_risk_youth" in got["special_groups"]
    assert [f["note"] for s in got["special_records"] if s["id"] == sid for f in s["followups"]] == ["谈心谈话"]
    assert "special_records" not in _get(world, "department", f"/people/{pid}").json()
    other = scalar(world["dsn"], "SELECT id FROM reg_special_group WHERE cell_code <> %s LIMIT 1", (world["cell"],))
    assert _post(world, "worker", f"/special-groups/{other}/followups", {"kind": "help"}).status_code == 404


def test_a_local_x_type_is_declared_as_data_and_its_records_are_checked(world, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from app import cli

    monkeypatch.setenv("DATABASE_URL", world["dsn"])
    spec = tmp_path / "herds.json"
    spec.write_text('[{"key": "herd", "label": "牲畜数", "type": "int", "required": true, "min": 0},'
                    ' {"key": "pasture", "label": "草场", "type": "choice", "choices": ["天然", "人工"]}]')
    r = CliRunner().invoke(cli, ["registry", "kind", "herds", "牧户牲畜", "--fields", str(spec)])
    assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.json"
    bad.write_text('[{"key": "Herd", "label": "", "type": "money"}]')
    r = CliRunner().invoke(cli, ["registry", "kind", "herds2", "x", "--fields", str(bad)])
    assert r.exit_code == 2 and "refused" in r.output
    assert [k["code"] for k in _get(world, "worker", "/x").json()] == ["herds"]
    rec = {"uid": str(uuid.uuid4()), "cell_code": world["cell"], "data": {"herd": 120, "pasture": "天然"}}
    assert _post(world, "worker", "/x/herds", rec).status_code == 201
    assert _post(world, "worker", "/x/herds", rec).status_code == 200
    r = _post(world, "worker", "/x/herds", {**rec, "uid": str(uuid.uuid4()), "data": {"herd": -3, "goats": 1}})
    assert r.status_code == 422 and {"data.herd", "data.goats"} <= set(r.json()["error"]["fields"])
    r = _post(world, "worker", "/x/herds", {**rec, "uid": str(uuid.uuid4()), "cell_code": world["other_cell"]})
    assert r.status_code == 403
    assert _post(world, "worker", "/x/nothing", rec).status_code == 404
    assert [x["data"] for x in _get(world, "worker", "/x/herds").json()] == [{"herd": 120, "pasture": "天然"}]
    assert _get(world, "town_leader", "/x/herds", unit="150623001").status_code == 403


def test_the_command_line_exports_imports_and_refuses_a_broken_sheet_with_exit_2(world, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from app import cli

    monkeypatch.setenv("DATABASE_URL", world["dsn"])
    out = tmp_path / "houses.xlsx"
    r = CliRunner().invoke(cli, ["registry", "export", "--kind", "houses", str(out), "--unit", world["cell"]])
    assert r.exit_code == 0, r.output
    houses = "SELECT count(*) FROM reg_house WHERE cell_code = %s"
    before = scalar(world["dsn"], houses, (world["cell"],))
    r = CliRunner().invoke(cli, ["registry", "import", "--kind", "houses", str(out)])
    assert r.exit_code == 0, r.output
    assert scalar(world["dsn"], houses, (world["cell"],)) == before
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    ws.append([None, "新房", "住宅", 1, 200.0, 38.0])  # a point outside the world's bounds
    ws["C2"] = "宫殿"
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    r = CliRunner().invoke(cli, ["registry", "import", "--kind", "houses", str(broken)])
    assert r.exit_code == 2 and "nothing was imported" in r.output, r.output
    assert "第2行 C列 用途" in r.output and "经度" in r.output
    assert scalar(world["dsn"], houses, (world["cell"],)) == before
    r = CliRunner().invoke(cli, ["registry", "export", "--kind", "people", str(tmp_path / "p.xlsx"),
                                 "--user", "demo-leader"])
    assert r.exit_code == 2 and "may not export" in r.output
    assert not (tmp_path / "p.xlsx").exists()
    r = CliRunner().invoke(cli, ["registry", "export", "--kind", "people", str(tmp_path / "t.xlsx"), "--template"])
    assert r.exit_code == 0 and (tmp_path / "t.xlsx").exists()


def test_disputes_come_with_their_mediation_and_incident_inside_the_jurisdiction(world):
    rows = _get(world, "town_leader", "/other/disputes", limit=500).json()
    assert rows and all(d["cell_code"].startswith(TOWN) for d in rows)
    assert all(d["summary"] is None for d in rows)  # free text: not for leaders
    assert all(d["mediation"] and d["incident_id"] for d in rows)
    full = _get(world, "dispatcher", "/other/disputes", limit=5).json()
    assert all(d["summary"] for d in full)
    assert _get(world, "town_leader", "/other/disputes", unit="150623001").status_code == 403
    assert _get(world, "worker", "/other/dragons").status_code == 404
    schools = _get(world, "leader", "/other/schools").json()
    assert schools and all(s["facility_id"] for s in schools)
