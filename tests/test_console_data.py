"""The dispatch console's reads and its conflict rule, against the demo county: pages, sorting and
filters give exactly the rows a plain SQL query gives; a town dispatcher's table and search hold
nothing of another town; an action with a version the user no longer sees is refused as stale.
"""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from data import console, incidents
from data.users import Actor
from db.core import connect

from conftest import DEMO_NOW, _drop, _fresh_database

REGION = "150623"
TOWN = "150623002"
TZ = "Asia/Shanghai"
NOW = DEMO_NOW + timedelta(hours=1)


def _actor(role: str, unit: str = REGION, department: str | None = None) -> Actor:
    return Actor(user_id=None, username=f"test-{role}-{unit}", role=role, unit_code=unit, region_code=REGION,
                 department_code=department)


@pytest.fixture(scope="module")
def own_dsn(server_dsn):
    """A demo county without history, for the tests here that report and act (the shared demo
    county's incidents are counted by other tests)."""
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "console_data")
    load_demo(dsn, seed=1, incidents=0, now=DEMO_NOW)
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture
def own_conn(own_dsn):
    c = connect(own_dsn)
    yield c
    c.rollback()
    c.close()


@pytest.fixture
def conn(demo_dsn):
    c = connect(demo_dsn)
    yield c
    c.rollback()
    c.close()


def new_incident(conn, town: str = TOWN, category: str = "public_order") -> str:
    """A fresh report (state new) at a point in ``town``, made now by an administrator; committed."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_unit "
                    "WHERE level = 4 AND code LIKE %s ORDER BY code LIMIT 1) s", (town + "%",))
        lon, lat = cur.fetchone()
    conn.rollback()
    now = datetime.now(timezone.utc)
    rep = incidents.validate_report({"id": str(uuid.uuid4()), "category": category, "lon": lon, "lat": lat,
                                     "description": "console test", "observed_at": now.isoformat()}, now)
    item, _ = incidents.report(conn, _actor("admin"), rep, now=now)
    return item["id"]


def _sql_ids(conn, where: str, params: dict, order: str, limit: int, offset: int) -> tuple[list[str], int]:
    """The independent answer: incident ids by a hand-written query."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM incident i WHERE {where}", params)
        total = cur.fetchone()[0]
        cur.execute(f"SELECT i.id::text FROM incident i WHERE {where} ORDER BY {order} LIMIT %(l)s OFFSET %(o)s",
                    {**params, "l": limit, "o": offset})
        ids = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return ids, total


@pytest.mark.parametrize("sort,desc,order", [
    ("received_at", True, "i.received_at DESC, i.id"),
    ("received_at", False, "i.received_at ASC, i.received_at DESC, i.id"),
    ("due_at", False, "i.due_at ASC, i.received_at DESC, i.id"),
    ("state", False, 'i.state COLLATE "C" ASC, i.received_at DESC, i.id'),
    ("level", True, "i.handling_level DESC, i.received_at DESC, i.id"),
    ("category", True, 'i.category_code COLLATE "C" DESC, i.received_at DESC, i.id'),
])
def test_paging_and_sorting_match_sql(conn, sort, desc, order):
    actor = _actor("dispatcher")
    for start in (0, 50, 2950):
        rows, total = console.page(conn, actor, console.Query(), tz=TZ, sort=sort, desc=desc,
                                   start=start, end=start + 50, now=NOW)
        ids, want_total = _sql_ids(conn, "i.region_code = %(r)s", {"r": REGION}, order, 50, start)
        assert total == want_total
        assert [r["id"] for r in rows] == ids


@pytest.mark.parametrize("sort,desc", [("received_at", True), ("due_at", False), ("department", True), ("id", False)])
@pytest.mark.parametrize("raw", [{}, {"states": ["closed", "new"]}, {"since": "2026-05-01", "until": "2026-06-10"},
                                 {"overdue": True}, {"queue": "escalated"}, {"text": "路"}])
def test_both_plans_give_the_same_page(conn, sort, desc, raw):
    """The page read in index order (many matches expected) and the matches found first (few):
    the same rows in the same order; which one runs depends on the planner's estimate against
    the count's cap, so a small cap and a large one force each."""
    actor = _actor("dispatcher")
    q = console.parse_query(raw)
    for start in (0, 40):
        many, n_many = console.page(conn, actor, q, tz=TZ, sort=sort, desc=desc, start=start, end=start + 40,
                                    now=NOW, count_cap=1)
        few, n_few = console.page(conn, actor, q, tz=TZ, sort=sort, desc=desc, start=start, end=start + 40,
                                  now=NOW, count_cap=10**7)
        assert [r["id"] for r in many] == [r["id"] for r in few]
        assert n_many == min(n_few, 2)  # past the cap: cap + 1, "more than"


def test_the_count_stops_at_the_cap_and_the_number_is_an_id_range(conn):
    actor = _actor("dispatcher")
    rows, total = console.page(conn, actor, console.Query(), tz=TZ, end=50, now=NOW, count_cap=100)
    assert total == 101 and len(rows) == 50
    with conn.cursor() as cur:
        cur.execute("SELECT id::text FROM incident WHERE region_code = %s ORDER BY id LIMIT 1", (REGION,))
        first = cur.fetchone()[0]
    conn.rollback()
    for prefix in (first[:3], first[:8], first[:10], first[:23], first):  # across the dashes
        rows, total = console.page(conn, actor, console.parse_query({"number": prefix}), tz=TZ, now=NOW)
        assert first in [r["id"] for r in rows] and all(r["id"].startswith(prefix) for r in rows), prefix
    misplaced = first[:4] + "-" + first[5:9]  # a dash where no id has one: nothing, no error
    assert console.page(conn, actor, console.parse_query({"number": misplaced}), tz=TZ, now=NOW) == ([], 0)


def test_filters_match_sql(conn):
    actor = _actor("dispatcher")
    with conn.cursor() as cur:
        cur.execute("SELECT category_code, department_code FROM incident WHERE department_code IS NOT NULL "
                    "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")
        cat, dept = cur.fetchone()
    conn.rollback()
    q = console.parse_query({"categories": [cat], "states": ["new", "accepted", "dispatched"], "departments": [dept],
                             "levels": ["4", "3"], "since": "2026-05-01", "until": "2026-06-15"})
    assert not q.errors
    rows, total = console.page(conn, actor, q, tz=TZ, end=200, now=NOW)
    where = ("i.region_code = %(r)s AND i.category_code = %(c)s AND i.state IN ('new', 'accepted', 'dispatched') "
             "AND i.department_code = %(d)s AND i.handling_level IN (4, 3) "
             "AND i.received_at >= '2026-05-01T00:00:00+08:00' AND i.received_at < '2026-06-16T00:00:00+08:00'")
    ids, want = _sql_ids(conn, where, {"r": REGION, "c": cat, "d": dept}, "i.received_at DESC, i.id", 200, 0)
    assert total == want and [r["id"] for r in rows] == ids
    # overdue, the number prefix and the queue of new incidents
    later = NOW + timedelta(days=10)  # escalation has not run since: deadlines have passed
    rows, total = console.page(conn, actor, console.Query(overdue=True), tz=TZ, end=200, now=later)
    _, want = _sql_ids(conn, "i.region_code = %(r)s AND incident_is_overdue(i.state, i.due_at, %(n)s)",
                       {"r": REGION, "n": later}, "i.id", 1, 0)
    assert total == want > 0 and all(r["overdue"] for r in rows)
    prefix = ids[0][:5] if ids else rows[0]["id"][:5]
    rows, total = console.page(conn, actor, console.parse_query({"number": prefix.upper()}), tz=TZ, now=NOW)
    assert total >= 1 and all(r["id"].startswith(prefix) for r in rows)
    rows, total = console.page(conn, actor, console.Query(queue="new"), tz=TZ, end=200, now=NOW)
    assert all(r["state"] == "new" for r in rows)


def test_bad_filters_are_named_not_run():
    q = console.parse_query({"since": "06/01/2026", "until": "2026-13-40", "number": "x'; drop", "levels": ["9"],
                             "states": ["bogus"]})
    assert set(q.errors) == {"since", "until", "number"}
    assert q.since is None and q.until is None and q.number is None and q.levels is None and q.states is None


def test_town_dispatcher_sees_only_their_town(conn):
    town = _actor("dispatcher", TOWN)
    rows, total = console.page(conn, town, console.Query(), tz=TZ, end=200, now=NOW)
    assert total > 0 and all(r["cell_code"].startswith(TOWN) for r in rows)
    _, want = _sql_ids(conn, "i.cell_code LIKE %(t)s", {"t": TOWN + "%"}, "i.id", 1, 0)
    assert total == want
    with pytest.raises(incidents.Forbidden):
        console.page(conn, town, console.Query(unit="150623001"), tz=TZ, now=NOW)
    # search: another town's incident number finds nothing; their own does
    with conn.cursor() as cur:
        cur.execute("SELECT id::text FROM incident WHERE cell_code NOT LIKE %s LIMIT 1", (TOWN + "%",))
        other = cur.fetchone()[0]
    conn.rollback()
    assert console.search(conn, town, other[:8]) == []
    assert [h["ref"] for h in console.search(conn, _actor("dispatcher"), other[:8]) if h["kind"] == "incident"] == [other]
    # places: the town finds its own villages, not another town's
    found = console.search(conn, _actor("dispatcher"), "村")
    assert any(h["kind"] == "unit" and not h["ref"].startswith(TOWN) for h in found)
    assert all(h["ref"].startswith(TOWN) for h in console.search(conn, town, "村") if h["kind"] == "unit")


def test_department_sees_only_their_cases(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT department_code FROM incident WHERE department_code IS NOT NULL LIMIT 1")
        dept = cur.fetchone()[0]
    conn.rollback()
    rows, total = console.page(conn, _actor("department", REGION, dept), console.Query(), tz=TZ, end=200, now=NOW)
    assert total > 0 and {r["department_code"] for r in rows} == {dept}


def test_leader_gets_masked_rows_and_no_text_search_of_descriptions(conn):
    leader = _actor("leader")
    rows, _ = console.page(conn, leader, console.Query(), tz=TZ, end=20, now=NOW)
    assert all(r["description"] is None for r in rows)
    with conn.cursor() as cur:  # a description's text: found by who reads descriptions only
        cur.execute("SELECT description FROM incident WHERE description <> '' GROUP BY 1 ORDER BY count(*) LIMIT 1")
        word = cur.fetchone()[0]
    conn.rollback()
    names = ("(strpos(lower((SELECT c.name || ' ' || c.name_en FROM incident_category c WHERE c.code = i.category_code)),"
             " lower(%(w)s)) > 0 OR strpos(lower((SELECT g.name || ' ' || coalesce(g.name_en, '') FROM grid_unit g"
             " WHERE g.code = i.cell_code)), lower(%(w)s)) > 0)")
    _, by_names = _sql_ids(conn, f"i.region_code = %(r)s AND {names}", {"r": REGION, "w": word}, "i.id", 1, 0)
    _, by_all = _sql_ids(conn, f"i.region_code = %(r)s AND ({names} OR strpos(lower(i.description), lower(%(w)s)) > 0)",
                         {"r": REGION, "w": word}, "i.id", 1, 0)
    _, seen_by_dispatcher = console.page(conn, _actor("dispatcher"), console.Query(text=word), tz=TZ, now=NOW)
    _, seen_by_leader = console.page(conn, leader, console.Query(text=word), tz=TZ, now=NOW)
    assert seen_by_dispatcher == by_all > by_names == seen_by_leader
    assert console.console_actions(leader, ["accept", "reopen"]) == []


TEXTS = ["路", "垃圾", "倾倒垃圾", "漏雨", "草原", "第1网格", "GRID 1", "dispute", "没有这样的事", "50%_",
         "a\nb' OR 1=1 --", "\\", "路\n-- x"]


@pytest.mark.parametrize("text", TEXTS)
def test_free_text_matches_descriptions_and_names_like_sql(conn, text):
    """Free text: a case-insensitive substring of the description, the category's or the cell's
    name, as a hand-written scan finds it; line breaks, quotes and LIKE's wildcards are text."""
    names = ("(strpos(lower((SELECT c.name || ' ' || c.name_en FROM incident_category c WHERE c.code = i.category_code)),"
             " lower(%(w)s)) > 0 OR strpos(lower((SELECT g.name || ' ' || coalesce(g.name_en, '') FROM grid_unit g"
             " WHERE g.code = i.cell_code)), lower(%(w)s)) > 0 OR strpos(lower(i.description), lower(%(w)s)) > 0)")
    ids, want = _sql_ids(conn, f"i.region_code = %(r)s AND {names}", {"r": REGION, "w": text},
                         "i.received_at DESC, i.id", 50, 0)
    rows, total = console.page(conn, _actor("dispatcher"), console.parse_query({"text": text}), tz=TZ, end=50,
                               now=NOW, count_cap=10**7)
    assert total == want and [r["id"] for r in rows] == ids
    assert console.count(conn, _actor("dispatcher"), console.parse_query({"text": text}), tz=TZ, now=NOW,
                         count_cap=10**7) == want


def test_free_text_of_descriptions_is_read_from_the_characters_index(conn):
    """The description's test is one the characters' index (0045) answers, at one character too."""
    from psycopg2 import sql as psql

    from db.core import sql

    for text in ("漏", "漏雨", "房屋屋顶漏雨"):
        bind = {**console._bind(_actor("dispatcher"), console.parse_query({"text": text}), TZ, NOW),
                "text_categories": None, "text_cells": None}
        with conn.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(psql.SQL("EXPLAIN SELECT 1 FROM ({}) f").format(psql.SQL(sql("console_filter"))), bind)
            plan = "\n".join(r[0] for r in cur.fetchall())
        conn.rollback()
        assert "incident_text_chars_idx" in plan, plan


def test_free_text_settings_hold_for_its_own_statements_on_a_pooled_connection(demo_dsn):
    """The served console reads on a pooled connection in autocommit mode, where a bare SET LOCAL
    is ignored: db.core.local_settings gives free text a transaction of its own, and nothing it
    sets outlives it on the pooled connection."""
    from db.core import local_settings, pooled

    q = console.parse_query({"text": "路"})
    with pooled(demo_dsn) as conn:
        assert conn.autocommit
        with local_settings(conn), conn.cursor() as cur:
            console._read_in_order(cur)
            cur.execute("SHOW enable_sort")
            inside = cur.fetchone()[0]
        served = console.page(conn, _actor("dispatcher"), q, tz=TZ, end=40, now=NOW, count_cap=1)
        with conn.cursor() as cur:
            cur.execute("SHOW enable_sort")
            after = cur.fetchone()[0]
            cur.execute("SELECT pg_current_xact_id_if_assigned() IS NULL AND now() = statement_timestamp()")
            outside_a_transaction = cur.fetchone()[0]
    assert inside == "off" and after == "on" and outside_a_transaction
    conn = connect(demo_dsn)
    try:
        assert served == console.page(conn, _actor("dispatcher"), q, tz=TZ, end=40, now=NOW, count_cap=1)
    finally:
        conn.close()


def test_sql_files_name_no_parameter_in_a_comment():
    """A bound parameter in a comment would be filled in there: a value with a line break would
    end the comment and run. db.core.sql leaves whole-line comments out; none is left after code."""
    from db.core import HERE, sql

    paths = sorted((HERE / "sql").glob("*.sql"))
    assert len(paths) > 50
    for path in paths:
        text = sql(path.stem)
        assert not [line for line in text.splitlines() if "--" in line and "%(" in line.split("--", 1)[1]], path


def test_stale_version_is_refused(own_dsn):
    conn = connect(own_dsn)
    try:
        iid = new_incident(conn)
        me, other = _actor("dispatcher"), _actor("admin")
        seen = incidents.get(conn, me, iid)
        incidents.act(conn, other, iid, "accept", expected_version=seen["version"])  # someone else first
        with pytest.raises(incidents.Stale) as refused:
            incidents.act(conn, me, iid, "reject", note="duplicate", expected_version=seen["version"])
        assert refused.value.status == 409 and refused.value.extra["state"] == "accepted"
        again = incidents.get(conn, me, iid)
        assert again["state"] == "accepted" and again["version"] == seen["version"] + 1
        done = incidents.act(conn, me, iid, "dispatch", expected_version=again["version"])
        assert done["state"] == "dispatched"
    finally:
        conn.close()


def test_departments_suggest_the_category_default(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT c.code, d.code FROM incident_category c JOIN department d ON d.kind = c.department_kind "
                    "AND d.region_code = %s LIMIT 1", (REGION,))
        cat, dept = cur.fetchone()
    conn.rollback()
    listed = console.departments(conn, REGION, cat)
    assert listed[0]["code"] == dept and listed[0]["suggested"] and not any(d["suggested"] for d in listed[1:])


def test_day_bounds_are_local_days(conn):
    q = console.Query(since=date(2026, 6, 10), until=date(2026, 6, 10))
    rows, _ = console.page(conn, _actor("dispatcher"), q, tz=TZ, end=200, now=NOW)
    assert rows and all(r["received_at"].startswith("2026-06-10") for r in rows)
    assert datetime.fromisoformat(rows[0]["received_at"]).utcoffset() == timedelta(hours=8)
    assert timezone.utc  # (times carry the region's offset)


def test_api_refuses_a_stale_action(own_dsn):
    from app import Settings, create_app
    from data.users import issue_token

    conn = connect(own_dsn)
    try:
        iid = new_incident(conn)
        token = issue_token(conn, "demo-dispatcher", "console-stale")
        conn.commit()
        auth = {"Authorization": f"Bearer {token}"}
        client = create_app(Settings(dsn=own_dsn)).test_client()
        seen = client.get(f"/api/v1/incidents/{iid}", headers=auth).get_json()
        assert seen["version"] == 1
        ok = client.post(f"/api/v1/incidents/{iid}/actions/accept", headers=auth,
                         json={"expected_version": seen["version"]})
        assert ok.status_code == 200 and ok.get_json()["version"] == 2
        stale = client.post(f"/api/v1/incidents/{iid}/actions/dispatch", headers=auth,
                            json={"expected_version": seen["version"]})
        assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "stale"
        bad = client.post(f"/api/v1/incidents/{iid}/actions/dispatch", headers=auth, json={"expected_version": "x"})
        assert bad.status_code == 422
        assert client.get(f"/api/v1/incidents/{iid}", headers=auth).get_json()["state"] == "accepted"
    finally:
        conn.close()


def test_escalated_queue_is_my_level(own_conn):
    conn = own_conn
    iid = new_incident(conn)
    admin = _actor("admin")
    for _ in range(2):  # grid → village → town
        incidents.act(conn, admin, iid, "escalate")
    town, county = _actor("dispatcher", TOWN), _actor("dispatcher")
    rows, _ = console.page(conn, town, console.Query(queue="escalated"), tz=TZ, end=200)
    assert iid in {r["id"] for r in rows} and all(r["handling_level"] == 2 for r in rows)
    rows, _ = console.page(conn, county, console.Query(queue="escalated"), tz=TZ, end=200)
    assert iid not in {r["id"] for r in rows} and all(r["handling_level"] == 1 for r in rows)
    assert console.queue_counts(conn, town, tz=TZ)["escalated"] >= 1


def test_alerts_once_per_incident_and_level():
    from dashboard.console_cb import alert_for

    esc = alert_for({"incident_id": "a", "action": "escalate", "level": 3, "overdue": False})
    late = alert_for({"incident_id": "a", "action": "dispatch", "level": 3, "overdue": True})
    assert esc["kind"] == "escalated" and late["kind"] == "overdue" and esc["key"] == late["key"] == "a:3"
    assert alert_for({"incident_id": "a", "action": "accept", "level": 4, "overdue": False}) is None
    assert alert_for({"resync": True}) is None and alert_for({"bulk": 300}) is None
