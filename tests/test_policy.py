"""The one decision of who sees which rows and fields (domain/policy.py), and the places that apply
it: SQL masks equal to the Python ones, derived values suppressed with the count they come from."""
from __future__ import annotations

import pytest
from psycopg2 import sql as psql

from data.policy import SQL_MASKS, sql_column
from domain import policy
from domain.policy import Caller
from layers import registry
from layers.base import Query

BANNER, TOWN, CELL = "150623", "150623002", "150623002001001"
TABLE = {  # the docstring's table, written out again: a change to the decision must change both
    "personal": {"admin", "dispatcher", "department", "worker"},
    "staff_name": {"admin", "dispatcher", "leader", "department", "worker"},
    "staff_phone": {"admin", "dispatcher", "worker"},
    "position": {"admin", "dispatcher", "leader", "analyst", "department", "worker"},
    "people_count": {"admin", "worker"},
    "id_number": {"admin", "dispatcher", "worker"},
    "res_phone": {"admin", "dispatcher", "worker"},
    "special_group": {"admin", "dispatcher", "worker"},
    "people_export": {"admin", "dispatcher"},
    "registry_edit": {"admin", "dispatcher", "worker"},
}


def caller(role, unit=BANNER, **kw):
    return Caller(role, unit, BANNER, **kw)


@pytest.mark.parametrize("cls", policy.CLASSES)
@pytest.mark.parametrize("role", policy.ROLES)
def test_each_role_sees_each_class_as_the_table_says_and_a_kiosk_sees_none(role, cls):
    assert policy.sees(caller(role), cls) is (role in TABLE[cls])
    assert policy.sees(caller(role, read_only=True), cls) is False
    assert policy.sees(caller(role), None) is True  # an ordinary field


def test_an_unknown_class_is_an_error_not_a_silent_reveal():
    with pytest.raises(ValueError, match="unknown field class"):
        policy.sees(caller("admin"), "secrets")


def test_masks():
    assert policy.mask_value("张三丰", "name") == "张**"
    assert policy.mask_value("李", "name") == "李*"
    assert policy.mask_value("13812345678", "phone") == "138****5678"
    assert policy.mask_value("worker:demo-worker", "label") == "worker:*"
    assert policy.mask_value("anything", "hide") is None
    assert policy.mask_value(None, "name") is None


def test_sql_masks_equal_the_python_masks(empty_conn):
    values = ["张三丰", "李", "13812345678", "worker:demo-worker", "dispatcher:x", None]
    with empty_conn.cursor() as cur:
        for how in SQL_MASKS:
            for v in values:
                expr = sql_column(psql.SQL("%(v)s::text"), "personal", how, caller("leader"))
                cur.execute(psql.SQL("SELECT {}").format(expr), {"v": v})
                assert cur.fetchone()[0] == policy.mask_value(v, how), (how, v)


def test_mask_record_masks_for_the_role_and_names_what_it_revealed():
    record = {"id": "x", "description": "王某与邻居争执", "reporter_id": 7, "state": "new"}
    out, revealed = policy.mask_record(caller("leader"), record)
    assert out == {"id": "x", "description": None, "reporter_id": None, "state": "new"} and revealed == []
    out, revealed = policy.mask_record(caller("dispatcher"), record)
    assert out == record and sorted(revealed) == ["description", "reporter_id"]
    out, revealed = policy.mask_record(caller("analyst", worker_id=7), record, own=True)
    assert out == record  # the reporter reads what they reported
    out, _ = policy.mask_record(caller("worker", worker_id=7, read_only=True), record, own=True)
    assert out["description"] is None  # not on a read-only session


def test_the_row_rule():
    worker = caller("worker", CELL, worker_id=7)
    assert policy.incident_visible(worker, CELL, None, None)
    assert not policy.incident_visible(worker, "150623002001002", None, None)
    assert policy.incident_visible(worker, "150623002001002", None, 7)  # reported it, just outside
    dept = caller("department", department_code="150623-police")
    assert policy.incident_visible(dept, CELL, "150623-police", None)
    assert not policy.incident_visible(dept, CELL, "150623-water", None)
    assert not policy.incident_visible(dept, CELL, None, None)
    town = caller("leader", TOWN)
    assert policy.incident_visible(town, CELL, None, None)
    assert not policy.incident_visible(town, "150623001001001", None, None)


def test_row_params_narrow_inside_and_refuse_outside():
    town = caller("leader", TOWN)
    assert policy.row_params(town) == {"region_code": BANNER, "scope": TOWN, "department": None,
                                       "reporter_id": None}
    assert policy.row_params(town, CELL)["scope"] == CELL
    with pytest.raises(policy.OutsideJurisdiction):
        policy.row_params(town, "150623001")
    worker = caller("worker", CELL, worker_id=7)
    assert policy.row_params(worker)["reporter_id"] == 7
    assert policy.row_params(worker, CELL)["reporter_id"] is None  # a narrower unit is just that unit
    assert policy.row_params(caller("department", department_code="d"))["department"] == "d"
    assert policy.row_params(caller("leader", department_code="d"))["department"] is None


def test_small_counts_are_suppressed_for_roles_without_people_counts():
    assert [policy.suppress(caller("leader"), n) for n in (None, 0, 1, 4, 5, 900)] == [None, 0, None, None, 5, 900]
    assert [policy.suppress(caller("admin"), n) for n in (1, 4)] == [1, 4]


def test_live_events_follow_the_row_rule():
    event = {"incident_id": "x", "region_code": BANNER, "cell_code": CELL, "action": "report"}
    assert policy.event_visible(caller("leader"), event) == event
    assert policy.event_visible(caller("leader", "150623001"), event) is None
    assert policy.event_visible(caller("leader", unit="150624"), {**event, "region_code": "150624"}) is None
    assert policy.event_visible(caller("worker", "150623002001002", worker_id=7), {**event, "reporter_id": 7}) == \
        {**event, "reporter_id": 7}
    dept = caller("department", department_code="150623-police")
    assert policy.event_visible(dept, event) == {"resync": True}  # no department on it: refresh, no id
    assert policy.event_visible(dept, {**event, "department_code": "150623-water"}) is None
    # a dispatch elsewhere may take a case away from this department: refresh, not told where
    assert policy.event_visible(dept, {**event, "department_code": "150623-water", "action": "dispatch"}) == \
        {"resync": True}
    assert policy.event_visible(dept, {**event, "department_code": "150623-police"})["incident_id"] == "x"
    assert policy.event_visible(caller("analyst"), {"bulk": 500}) == {"bulk": 500}


def test_reveals_are_collected_per_request_and_only_when_something_was_revealed():
    token = policy.start_reveals()
    policy.note_reveal("incident:a", [], actor="x")
    policy.note_reveal("incident:a", ["description"], actor="x")
    policy.note_reveal("incident:a", ["reporter_id", "description"])
    policy.note_reveal("layer:worker_positions", ["position"], 12, "ogc_items")
    got = policy.take_reveals(token)
    assert got.objects == {"incident:a": ["description", "reporter_id"], "layer:worker_positions": ["position"]}
    assert got.count == 14 and got.action == "ogc_items" and got.actor == "x"
    policy.note_reveal("incident:b", ["description"])  # no collector: nothing kept
    assert policy.take_reveals() is None


def _grid_row(conn, who, code):
    layer = registry.get("cells")
    rows, _ = registry.page(conn, layer, who, Query(fid=code), 1, 0)
    keys = [f.key for f in layer.export_fields]
    return dict(zip(keys, rows[0][2:], strict=True))


def test_a_suppressed_population_does_not_come_back_as_area_times_density(demo_conn):
    with demo_conn.cursor() as cur:
        cur.execute("SELECT cell_code FROM cell_population ORDER BY cell_code LIMIT 1")
        (code,) = cur.fetchone()
        cur.execute("UPDATE cell_population SET population = 3, households = 1 WHERE cell_code = %s", (code,))
    hidden = _grid_row(demo_conn, caller("analyst"), code)
    assert hidden["population"] is None and hidden["households"] is None
    assert hidden["density"] is None and hidden["area_km2"] > 0  # area alone gives nothing back
    shown = _grid_row(demo_conn, caller("admin"), code)
    assert shown["population"] == 3 and shown["density"] == pytest.approx(3 / shown["area_km2"], rel=0.02)


def test_the_registry_refuses_worker_positions_to_a_kiosk_and_names_why(demo_conn):
    with pytest.raises(registry.NotForRole, match="read-only"):
        registry.page(demo_conn, registry.get("worker_positions"), caller("leader", read_only=True), Query(), 10, 0)
    assert "worker_positions" not in registry.map_layers(caller("leader", read_only=True))
    assert "worker_positions" in registry.map_layers(caller("analyst"))


def test_the_side_panel_blanks_small_resident_counts_and_the_rate_that_gives_them_back(demo_dsn):
    from dashboard.leaders import stats
    from data import stats as agg
    from db.core import connect

    conn = connect(demo_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT cell_code, population, households FROM cell_population ORDER BY cell_code LIMIT 1")
        code, population, households = cur.fetchone()
        cur.execute("UPDATE cell_population SET population = 3, households = 1 WHERE cell_code = %s", (code,))
    try:
        f = agg.Filters.last_days(365, tz=agg.region_timezone(demo_dsn, BANNER))
        for who, hidden in ((caller("leader"), True), (caller("admin"), False)):
            s = stats(demo_dsn, BANNER, code[:12], f, "per_1000", "zh", caller=who)
            kid = next(c for c in s["children"] if c["code"] == code)
            assert (kid["population"] is None and kid["households"] is None) is hidden
            assert (s["cells"]["values"][code] is None) is hidden
    finally:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE cell_population SET population = %s, households = %s WHERE cell_code = %s",
                        (population, households, code))
        conn.close()
