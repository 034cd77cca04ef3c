"""The standard's other registries written like houses (issue #15): organisations and their staff,
places, schools and protected lines through the API — idempotent on the client's UUID, inside the
jurisdiction, a reused UUID refused — staff phones only masked, their Excel round trip with a
broken sheet refused by row and column, and house footprints: checked, on the map at high zoom
only, in exports, and in the demo for a fixed share of houses."""
from __future__ import annotations

import io
import uuid

import pytest
import requests
from openpyxl import load_workbook
from test_registry import _get, _h, _post, make_world

from data import registry_xlsx
from db.core import connect
from domain import policy, shapes

from conftest import scalar


@pytest.fixture(scope="module")
def api(demo_server, demo_dsn):
    return make_world(demo_server, demo_dsn)


def _square(lon: float, lat: float, d: float = 0.00005) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def _org(api, **kw) -> dict:
    lon, lat = api["point"]
    return {"uid": str(uuid.uuid4()), "kind": "business", "name": "草原乳业有限公司", "address": "测试路2号",
            "credit_code": "91150623MA0N123456", "staff_count": 12, "lon": lon, "lat": lat, **kw}


def test_the_other_registries_are_added_and_updated_idempotently_inside_the_jurisdiction(api):
    lon, lat = api["point"]
    olon, olat = api["other_point"]
    org = _org(api)
    first = _post(api, "worker", "/orgs", org)
    assert first.status_code == 201, first.text
    assert first.json()["cell_code"] == api["cell"]
    again = _post(api, "worker", "/orgs", org)  # a retry: same row, same answer
    assert again.status_code == 200 and again.json() == first.json()
    changed = _post(api, "worker", "/orgs", {**org, "name": "草原乳业股份公司"})  # same uid, new body: an update
    assert changed.status_code == 200 and changed.json()["id"] == first.json()["id"]
    assert scalar(api["dsn"], "SELECT name FROM reg_org WHERE uid = %s", (org["uid"],)) == "草原乳业股份公司"
    # the organisation's UUID sent as a place's: 409, nothing stored
    place = {"uid": org["uid"], "kind": "internet_cafe", "name": "星空网吧", "lon": lon, "lat": lat}
    reused = _post(api, "worker", "/places", place)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "id_reused", reused.text
    for path, body in (("/places", {**place, "uid": str(uuid.uuid4()), "org": first.json()["id"]}),
                       ("/schools", {"uid": str(uuid.uuid4()), "name": "第一小学", "stage": "primary", "students": 420,
                                     "surroundings": "周边有两家网吧", "lon": lon, "lat": lat}),
                       ("/lines", {"uid": str(uuid.uuid4()), "kind": "power", "name": "110kV线", "unit_code": api["cell"],
                                   "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.001, lat]]}})):
        r = _post(api, "worker", path, body)
        assert r.status_code == 201, (path, r.text)
        assert _post(api, "worker", path, body).json()["id"] == r.json()["id"]
        # the same record in another town: refused, and a role that does not keep registries too
        if "lon" in body:
            outside = _post(api, "worker", path, {**body, "uid": str(uuid.uuid4()), "lon": olon, "lat": olat})
        else:
            outside = _post(api, "worker", path, {**body, "uid": str(uuid.uuid4()), "unit_code": api["other_cell"]})
        assert outside.status_code == 403, (path, outside.text)
        assert _post(api, "analyst", path, {**body, "uid": str(uuid.uuid4())}).status_code == 403
    bad = _post(api, "worker", "/schools", {"uid": "x", "name": "", "stage": "university", "lon": 999, "lat": lat})
    assert bad.status_code == 422 and {"uid", "name", "stage", "lon"} <= set(bad.json()["error"]["fields"]), bad.text
    assert _post(api, "worker", "/orgs", {**_org(api), "credit_code": "91150623MA0N12345I"}).status_code == 422
    # another town's organisation: the worker can neither update it by its UUID nor see its staff
    foreign = _org(api, lon=olon, lat=olat)
    made = _post(api, "admin", "/orgs", foreign)
    assert made.status_code == 201, made.text
    assert _post(api, "worker", "/orgs", {**foreign, "lon": lon, "lat": lat}).status_code == 403
    assert _get(api, "worker", f"/orgs/{made.json()['id']}/staff").status_code == 404
    staff = {"uid": str(uuid.uuid4()), "org": foreign["uid"], "name": "巴特尔", "post": "主任"}
    assert _post(api, "worker", "/org-staff", staff).status_code == 404
    listed = _get(api, "worker", "/other/orgs").json()
    assert org["uid"] in {o["uid"] for o in listed} and foreign["uid"] not in {o["uid"] for o in listed}


def test_staff_phones_are_stored_masked_and_names_masked_for_roles_without_personal(api):
    org = _org(api)
    oid = _post(api, "worker", "/orgs", org).json()["id"]
    staff = {"uid": str(uuid.uuid4()), "org": org["uid"], "name": "乌云其其格", "post": "调解员", "phone": "13912345678"}
    r = _post(api, "worker", "/org-staff", staff)
    assert r.status_code == 201, r.text
    assert _post(api, "worker", "/org-staff", staff).status_code == 200
    stored = scalar(api["dsn"], "SELECT to_jsonb(s)::text FROM reg_org_staff s WHERE uid = %s", (staff["uid"],))
    assert "13912345678" not in stored and "139****5678" in stored  # the clear number is nowhere
    for role, name in (("worker", "乌云其其格"), ("dispatcher", "乌云其其格"), ("leader", policy.mask_value("乌云其其格", "name"))):
        got = _get(api, role, f"/orgs/{oid}/staff")
        assert got.status_code == 200, (role, got.text)
        assert [(s["name"], s["phone_masked"]) for s in got.json()] == [(name, "139****5678")], role
    assert _get(api, "town_leader", f"/orgs/{oid}/staff").status_code == 404  # another town's organisation
    # the masked phone sent back (an edited export) keeps it; the UUID cannot move to another org
    assert _post(api, "worker", "/org-staff", {**staff, "phone": "139****5678", "post": "主任"}).status_code == 200
    assert scalar(api["dsn"], "SELECT phone_masked FROM reg_org_staff WHERE uid = %s", (staff["uid"],)) == \
        "139****5678"
    other = _post(api, "worker", "/orgs", _org(api)).json()["id"]
    moved = _post(api, "worker", "/org-staff", {**staff, "org": other})
    assert moved.status_code == 409, moved.text
    assert _post(api, "worker", "/org-staff", {**staff, "uid": str(uuid.uuid4()), "phone": "12"}).status_code == 422


def test_a_house_footprint_is_checked_drawn_at_high_zoom_and_exported(api):
    lon, lat = api["point"]
    house = {"uid": str(uuid.uuid4()), "address": "轮廓路1号", "use": "residential", "lon": lon, "lat": lat,
             "footprint": _square(lon, lat)}
    r = _post(api, "worker", "/houses", house)
    assert r.status_code == 201, r.text
    hid = r.json()["id"]
    assert _post(api, "worker", "/houses", house).json()["id"] == hid
    bow_tie = {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 1e-4, lat + 1e-4], [lon + 1e-4, lat],
                                                   [lon, lat + 1e-4], [lon, lat]]]}
    olon, olat = api["other_point"]
    for footprint, words in ((bow_tie, "not a valid polygon"), (_square(olon, olat), "outside the house's cell"),
                             (_square(lon, lat, 0.02), "area"), ({"type": "Point", "coordinates": [lon, lat]}, "Polygon"),
                             ({"type": "Polygon", "coordinates": [[[lon, lat], [lon, lat]]]}, "at least 4")):
        bad = _post(api, "worker", "/houses", {**house, "uid": str(uuid.uuid4()), "footprint": footprint})
        assert bad.status_code == 422, bad.text
        assert words in bad.json()["error"]["fields"]["footprint"], bad.json()
    # an update without a footprint keeps it; "" removes it
    assert _post(api, "worker", "/houses", {**house, "footprint": None}).status_code == 200
    assert scalar(api["dsn"], "SELECT footprint IS NOT NULL FROM reg_house WHERE id = %s", (hid,))
    box = f"{lon - 0.002},{lat - 0.002},{lon + 0.002},{lat + 0.002}"
    h = {"Authorization": f"Bearer {api['tokens']['worker']}"}

    def mapped(zoom):
        got = requests.get(api["url"] + "/layers/houses.geojson", params={"zoom": zoom, "bbox": box}, headers=h)
        assert got.status_code == 200, got.text
        return {f["id"] if "id" in f else f["properties"]["id"]: f["geometry"]["type"] for f in got.json()["features"]}

    assert mapped(17)[str(hid)] == "Polygon"
    assert mapped(14)[str(hid)] == "Point"
    ogc = requests.get(api["url"] + f"/ogc/collections/houses/items/{hid}", headers=h)
    assert ogc.status_code == 200, ogc.text
    assert ogc.json()["properties"]["footprint"].startswith("POLYGON((")
    conn = connect(api["dsn"])
    try:
        body, _n = registry_xlsx.export(conn, api["actors"]["worker"], "houses", api["cell"])
        conn.rollback()
    finally:
        conn.close()
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    col = [c.value for c in ws[1]].index("房屋轮廓(WKT)")
    wkt = next(row[col] for row in ws.iter_rows(min_row=2, values_only=True) if row[0] == house["uid"])
    assert wkt.startswith("POLYGON((") and shapes.polygon_wkt(wkt)
    assert _post(api, "worker", "/houses", {**house, "footprint": ""}).status_code == 200
    assert scalar(api["dsn"], "SELECT footprint IS NULL FROM reg_house WHERE id = %s", (hid,))


def test_the_demo_gives_a_fixed_share_of_houses_a_small_synthetic_footprint(api):
    dsn = api["dsn"]
    n, with_fp = (scalar(dsn, q) for q in ("SELECT count(*) FROM reg_house WHERE synthetic",
                                           "SELECT count(*) FROM reg_house WHERE synthetic AND footprint IS NOT NULL"))
    assert 0.08 < with_fp / n < 0.17
    assert scalar(dsn, "SELECT count(*) FROM reg_house WHERE footprint IS NOT NULL AND NOT (synthetic AND "
                       "ST_Contains(footprint, geom) AND ST_Area(footprint::geography) < 400) "
                       "AND address NOT LIKE '轮廓路%%'") == 0


@pytest.mark.parametrize("kind", ["orgs", "places", "schools", "lines", "staff"])
def test_excel_round_trip_of_the_other_registries_and_a_broken_sheet_refused_by_row(api, kind):
    dsn, actor = api["dsn"], api["actors"]["admin"]
    lon, lat = api["point"]
    conn = connect(dsn)
    try:
        template = load_workbook(io.BytesIO(registry_xlsx.template(kind))).worksheets[0]
        headers = [c.value for c in template[1]]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headers)  # a Chinese header row
        if kind != "staff":
            assert template.data_validations.dataValidation or kind == "schools"
        new = {"orgs": ["", "社会组织", "牧民合作社", None, "测试路3号", 5, lon, lat, None],
               "places": ["", "旅馆", "草原宾馆", None, lon, lat, None],
               "schools": ["", "旗第二中学", "初中", 800, "", lon, lat, None],
               "lines": ["", "道路", "S216线", api["cell"], f"LINESTRING({lon} {lat}, {lon + 0.01} {lat})"],
               "staff": None}[kind]
        if kind == "staff":
            org = scalar(dsn, "SELECT uid::text FROM reg_org WHERE cell_code = %s ORDER BY id LIMIT 1", (api["cell"],))
            new = ["", org, "额尔敦", "会计", "13812345678"]
        wb = load_workbook(io.BytesIO(registry_xlsx.template(kind)))
        ws = wb.worksheets[0]
        ws.append(new)
        out = io.BytesIO()
        wb.save(out)
        assert registry_xlsx.import_file(conn, actor, kind, out.getvalue()) == 1
        assert registry_xlsx.import_file(conn, actor, kind, out.getvalue()) == 1  # same rows: stored once
        body, n = registry_xlsx.export(conn, actor, kind, api["cell"])
        conn.commit()
        table = {"orgs": "reg_org", "places": "reg_place", "schools": "reg_school", "lines": "reg_line",
                 "staff": "reg_org_staff"}[kind]
        count = f"SELECT count(*) FROM {table}"
        before = scalar(dsn, count)
        assert registry_xlsx.import_file(conn, actor, kind, body) == n  # the export imports back unchanged
        assert scalar(dsn, count) == before
        wb = load_workbook(io.BytesIO(body))
        ws = wb.worksheets[0]
        ws.append(new)                                  # a good new row …
        broken = {"orgs": ("B", "外星组织"), "places": ("B", "飞船"), "schools": ("C", "大学"),
                  "lines": ("E", "LINESTRING(nonsense)"), "staff": ("E", "12345")}[kind]
        ws.append(new)
        ws[f"{broken[0]}{ws.max_row}"] = broken[1]      # … and a broken one after it
        out = io.BytesIO()
        wb.save(out)
        with pytest.raises(registry_xlsx.ImportRefused) as exc:
            registry_xlsx.import_file(conn, actor, kind, out.getvalue())
        assert (ws.max_row, broken[0]) in {(e["row"], e["column"]) for e in exc.value.extra["errors"]}, \
            exc.value.extra["errors"]
        assert scalar(dsn, count) == before  # nothing written, not even the good row
    finally:
        conn.rollback()
        conn.close()


def test_a_staff_sheet_needs_a_role_that_may_export_people(api):
    conn = connect(api["dsn"])
    try:
        with pytest.raises(registry_xlsx.IncidentError):
            registry_xlsx.export(conn, api["actors"]["worker"], "staff", api["cell"])
        assert registry_xlsx.export(conn, api["actors"]["worker"], "places", api["cell"])[0]
    finally:
        conn.rollback()
        conn.close()


def test_a_local_x_type_has_its_own_sheet_from_its_declaration(api, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from app import cli
    from data import registry_groups

    dsn = api["dsn"]
    conn = connect(dsn)
    with conn:
        registry_groups.declare_kind(conn, api["actors"]["admin"].region_code, "wells", "水井", [
            {"key": "depth", "label": "井深(米)", "type": "float", "required": True, "min": 0},
            {"key": "kind", "label": "水源", "type": "choice", "choices": ["地下水", "泉水"]},
            {"key": "shared", "label": "共用", "type": "bool"}])
    conn.close()
    monkeypatch.setenv("DATABASE_URL", dsn)
    try:
        blank = tmp_path / "wells.xlsx"
        r = CliRunner().invoke(cli, ["registry", "export", "--kind", "x:wells", "--template", str(blank)])
        assert r.exit_code == 0, r.output
        wb = load_workbook(blank)
        ws = wb.worksheets[0]
        assert [c.value for c in ws[1]] == ["记录编号", "所属网格", "井深(米)", "水源", "共用"]
        assert any("地下水" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
        ws.append(["", api["cell"], 35.5, "泉水", "是"])
        wb.save(blank)
        for _ in range(2):  # the same sheet twice: stored once
            r = CliRunner().invoke(cli, ["registry", "import", "--kind", "x:wells", str(blank)])
            assert r.exit_code == 0, r.output
        count = "SELECT count(*) FROM reg_extension_record WHERE kind_code = 'wells'"
        assert scalar(dsn, count) == 1
        assert scalar(dsn, "SELECT data::text FROM reg_extension_record WHERE kind_code = 'wells'") == \
            '{"kind": "泉水", "depth": 35.5, "shared": true}'
        exported = tmp_path / "wells-out.xlsx"
        r = CliRunner().invoke(cli, ["registry", "export", "--kind", "x:wells", "--unit", api["cell"], str(exported)])
        assert r.exit_code == 0, r.output
        wb = load_workbook(exported)
        ws = wb.worksheets[0]
        assert [c.value for c in ws[2]][1:] == [api["cell"], 35.5, "泉水", "是"]
        ws.append(["", api["cell"], 12, "地下水", "否"])      # a good row …
        ws.append(["", api["cell"], -4, "河水", "否"])        # … row 4: a negative depth, a source not in the list
        wb.save(exported)
        r = CliRunner().invoke(cli, ["registry", "import", "--kind", "x:wells", str(exported)])
        assert r.exit_code == 2 and "第4行 D列 水源" in r.output, r.output
        assert scalar(dsn, count) == 1  # nothing written
        r = CliRunner().invoke(cli, ["registry", "import", "--kind", "x:nothing", str(exported)])
        assert r.exit_code == 2 and "no local record type" in r.output, r.output
    finally:
        conn = connect(dsn)
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM reg_extension_kind WHERE code = 'wells'")
        conn.close()


@pytest.mark.parametrize("text, ok", [
    ("POLYGON((107 38, 107.001 38, 107.001 38.001, 107 38))", True),
    ("polygon ((107 38,107.001 38,107.001 38.001,107 38),(107.0002 38.0001, 107.0003 38.0001, 107.0003 38.0002, "
     "107.0002 38.0001))", True),
    ("POLYGON((107 38, 107.001 38, 107.001 38.001))", False),            # not closed
    ("POLYGON((107 38, 107.001 38, 107 38))", False),                    # too few positions
    ("POLYGON((200 38, 107.001 38, 107.001 38.001, 200 38))", False),    # not degrees
    ("POINT(107 38)", False),
    ("POLYGON((107 38, 107.001 38, 107.001 38.001, 107 38)) ; DROP TABLE reg_house", False),
    ("POLYGON((107 38, 107.001 38, 107.001 38.001, 107 38)) junk (1 2)", False),
])
def test_footprint_wkt_is_read_strictly(text, ok):
    if ok:
        assert shapes.polygon_wkt(text).startswith("POLYGON((107.0000000 38.0000000")
    else:
        with pytest.raises(ValueError):
            shapes.polygon_wkt(text)


def test_lines_come_as_geojson_or_wkt():
    assert shapes.lines_wkt({"type": "LineString", "coordinates": [[107, 38], [107.1, 38]]}) == \
        "MULTILINESTRING((107.0000000 38.0000000, 107.1000000 38.0000000))"
    assert shapes.lines_wkt("MULTILINESTRING((107 38, 107.1 38), (107 38.1, 107.1 38.1))").count("(") == 3
    for bad in ({"type": "LineString", "coordinates": [[107, 38]]}, "LINESTRING(107 38)", {"type": "Polygon"}, 5):
        with pytest.raises(ValueError):
            shapes.lines_wkt(bad)


def test_an_idempotency_key_makes_any_registry_write_once(api):
    """The Idempotency-Key rule of house, household and person writes holds for the other
    registries too: a retry gets the first answer, another body under the key is 409."""
    org = _org(api)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    url = api["url"] + "/api/v1/registry/orgs"
    first = requests.post(url, json=org, headers={**key, **_h(api, "worker")})
    assert first.status_code == 201, first.text
    again = requests.post(url, json=org, headers={**key, **_h(api, "worker")})
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = requests.post(url, json={**org, "name": "另一个名字"}, headers={**key, **_h(api, "worker")})
    assert other.status_code == 409, other.text
