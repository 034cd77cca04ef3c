"""The dispatch console in Chromium (/console), over a demo county of its own (these tests act):
a dispatcher and the department work an incident from new to closed through the page; a town
dispatcher's table holds only their town and an action on another town's incident is refused; a
change made by someone else first shows as a conflict; the table pages, sorts and filters as SQL
does; search finds by number and place; escalations raise one alert; a leader only looks; other
roles get 403. Screenshots at 1920×1080 and 1366×768 go to var/screenshots/.
"""
from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from data import incidents
from data.users import Actor, create_user, issue_token
from db.core import connect

from conftest import DEMO_NOW, _drop, _fresh_database, chromium

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
REGION = "150623"
TOWN = "150623002"  # 上海庙镇
OTHER_TOWN = "150623001"
SIZES = {"1920": (1920, 1080), "1366": (1366, 768)}
# the console map's scale bar in metres (it grows when the map zooms out)
SCALE_M = """() => { const t = document.querySelector('#c-map .leaflet-control-scale-line').innerText.trim();
    const n = parseFloat(t); return t.endsWith('km') ? n * 1000 : n; }"""


@pytest.fixture(scope="module")
def world(server_dsn):
    """A demo county with a small history, a town dispatcher of 上海庙镇, and the app serving it."""
    from waitress.server import create_server

    from app import Settings, create_app
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "console")
    load_demo(dsn, seed=1, incidents=300, now=DEMO_NOW)
    conn = connect(dsn)
    with conn:
        create_user(conn, "town-dispatcher", "onemap-town-1", "dispatcher", TOWN, display_name="镇调度员")
        create_user(conn, "plain-analyst", "onemap-analyst-1", "analyst", REGION)
    mp = pytest.MonkeyPatch()
    mp.setenv("ONEMAP_SSE_HEARTBEAT_S", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(dsn=dsn))
    srv = create_server(app, host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=srv.run, daemon=True).start()
    yield {"dsn": dsn, "conn": conn, "url": f"http://127.0.0.1:{port}"}
    broker = app.extensions["onemap_broker"]
    deadline = time.monotonic() + 10
    while broker.open_streams() and time.monotonic() < deadline:
        time.sleep(0.2)
    srv.close()
    conn.close()
    mp.undo()
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture(scope="module")
def browser(world):
    with chromium() as b:
        yield b


def _admin() -> Actor:
    return Actor(user_id=None, username="test-admin", role="admin", unit_code=REGION, region_code=REGION)


def new_incident(conn, town: str = TOWN, category: str = "public_order") -> str:
    """A fresh report (state new) at a point in ``town``; committed."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_unit "
                    "WHERE level = 4 AND code LIKE %s ORDER BY code LIMIT 1) s", (town + "%",))
        lon, lat = cur.fetchone()
    conn.rollback()
    now = datetime.now(timezone.utc)
    rep = incidents.validate_report({"id": str(uuid.uuid4()), "category": category, "lon": lon, "lat": lat,
                                     "description": "控制台测试", "observed_at": now.isoformat()}, now)
    item, _ = incidents.report(conn, _admin(), rep, now=now)
    return item["id"]


def open_console(browser, world, username, password, size="1920", lang="zh", live=True):
    """A logged-in console page; page errors are collected in ``page.errors``. ``live=False``: its
    live stream never connects (news of a change arrives too late, as on a slow link)."""
    w, h = SIZES[size]
    page = browser.new_page(viewport={"width": w, "height": h})
    if not live:
        page.route("**/events/stream**", lambda route: route.abort())
    page.errors, page.hosts = [], set()
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.hosts.add(urlsplit(r.url).hostname))
    page.add_init_script("window.__cspViolations = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(world["url"] + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(world["url"] + "/", timeout=15_000)
    page.goto(world["url"] + "/console?lang=" + lang)  # (a user's last language is remembered)
    page.wait_for_selector("#c-grid .ag-row[row-id]", timeout=30_000)
    return page


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def grid_ids(page) -> list[str]:
    """The incident ids of the rows the table shows, top to bottom."""
    return page.evaluate("""() => [...document.querySelectorAll('#c-grid .ag-center-cols-container .ag-row[row-id]')]
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
        .map(r => r.getAttribute('row-id'))""")


def wait_rows(page, want: list[str]) -> None:
    """Wait until the table's first rows are ``want`` with no page of rows awaited (a reload under
    new filters can answer the same rows as the last filters did: what the old answer drew is not
    the answer to the new filters, and the table is empty while the new page loads)."""
    deadline = time.monotonic() + 15
    while True:
        idle = page.evaluate("() => (s => s.pending === 0 && s.answered === JSON.stringify(s.query))"
                             "(window.onemapConsoleRows)")
        got = grid_ids(page)[:len(want)]
        if (idle and got == want) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    assert got == want, (f"table rows {got} != SQL {want}; total {page.locator('#c-total').inner_text()!r}, "
                         f"state filter {page.locator('#c-state').inner_text()!r}, "
                         f"dates {page.input_value('#c-since')!r}..{page.input_value('#c-until')!r}")


def select(page, incident_id):
    """Type the number into the number filter and open the incident's row."""
    page.fill("#c-number", incident_id[:12])
    page.press("#c-number", "Enter")
    row = page.locator(f'#c-grid .ag-center-cols-container .ag-row[row-id="{incident_id}"]')
    row.wait_for(timeout=15_000)
    page.wait_for_function("n => document.querySelectorAll('#c-grid .ag-center-cols-container .ag-row[row-id]').length === n",
                           arg=1, timeout=15_000)
    row.locator(".ag-cell").first.click()
    page.wait_for_function("id => (e => e && id.startsWith(e.innerText))(document.querySelector('#c-detail-number'))",
                           arg=incident_id, timeout=15_000)


def act(page, action, expect_state):
    """Click the action's button and wait for the detail to show the new state."""
    page.locator("#c-detail").get_by_role("button", name=action, exact=True).click()
    page.wait_for_function("s => (e => e && e.innerText === s)(document.querySelector('#c-detail-state'))",
                           arg=expect_state, timeout=15_000)


def state_of(world, incident_id) -> str:
    with world["conn"].cursor() as cur:
        cur.execute("SELECT state FROM incident WHERE id = %s", (incident_id,))
        state = cur.fetchone()[0]
    world["conn"].rollback()
    return state


def test_closed_loop_through_the_console(world, browser):
    iid = new_incident(world["conn"])
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher", lang="en")
    shot(page, "console_dispatcher_1920_en")
    select(page, iid)
    assert page.locator("#c-detail-desc").inner_text() == "控制台测试"
    act(page, "Accept", "Accepted")
    # dispatch to the department the category suggests (pre-selected)
    assert "suggested" in page.locator(".om-c-dept").inner_text()
    page.click("#c-detail .om-c-row button.primary")
    page.wait_for_function("() => document.querySelector('#c-detail-state').innerText === 'Dispatched'", timeout=15_000)
    shot(page, "console_dispatched_1920_en")
    assert state_of(world, iid) == "dispatched"
    with world["conn"].cursor() as cur:
        cur.execute("SELECT d.code FROM incident i JOIN incident_category c ON c.code = i.category_code "
                    "JOIN department d ON d.kind = c.department_kind AND d.region_code = i.region_code "
                    "WHERE i.id = %s", (iid,))
        suggested = cur.fetchone()[0]
        cur.execute("SELECT department_code FROM incident WHERE id = %s", (iid,))
        assert cur.fetchone()[0] == suggested
    world["conn"].rollback()
    # the department's staff do their steps on their own console
    dept = open_console(browser, world, "demo-department", "onemap-department", lang="en")
    select(dept, iid)
    assert dept.locator("#c-detail").get_by_role("button", name="Accept", exact=True).count() == 0
    act(dept, "Start", "In progress")
    act(dept, "Arrive", "On site")
    act(dept, "Resolve", "Resolved")
    shot(dept, "console_department_1920_en")
    dept.close()
    # back to the dispatcher: the page learnt of it live; verify and close
    page.wait_for_function("() => document.querySelector('#c-detail-state').innerText === 'Resolved'", timeout=15_000)
    act(page, "Verify", "Verified")
    act(page, "Close", "Closed")
    assert state_of(world, iid) == "closed"
    steps = page.locator("#c-timeline li").all_inner_texts()
    assert len(steps) == 8 and "Closed" in steps[-1]
    assert page.errors == []
    page.close()


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_reject_needs_a_reason_and_reopen(world, browser):
    iid = new_incident(world["conn"])
    incidents.add_photo(world["conn"], _admin(), iid, _jpeg(), "image/jpeg")
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    select(page, iid)
    # the photo through the existing photo route, and a responder's route on the small map
    page.wait_for_function("() => (i => i && i.complete && i.naturalWidth === 64)(document.querySelector('.om-c-photo'))",
                           timeout=15_000)
    page.locator("#c-responders").get_by_role("button", name="路线").first.click()
    page.wait_for_function("() => document.querySelector('#c-route-info').innerText.includes('km')", timeout=30_000)
    assert page.locator("#c-map path.leaflet-interactive").count() >= 1
    shot(page, "console_route_1920_zh")
    page.locator("#c-detail").get_by_role("button", name="驳回", exact=True).click()
    page.wait_for_selector(".om-c-refused", timeout=15_000)
    assert state_of(world, iid) == "new"
    page.fill(".om-c-note", "重复上报")
    act(page, "驳回", "不予受理")
    assert "重复上报" in page.locator("#c-timeline").inner_text()
    act(page, "重新打开", "已受理")
    assert state_of(world, iid) == "accepted"
    page.close()


def test_conflict_when_someone_else_acted_first(world, browser):
    iid = new_incident(world["conn"])
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher", lang="en", live=False)
    select(page, iid)
    incidents.act(world["conn"], _admin(), iid, "reject", note="someone else")  # meanwhile, elsewhere
    page.locator("#c-detail").get_by_role("button", name="Accept", exact=True).click()
    conflict = page.locator("#c-conflict")
    conflict.wait_for(timeout=15_000)
    assert "Rejected" in conflict.inner_text() and "someone else" in conflict.inner_text()
    assert state_of(world, iid) == "rejected"  # not overwritten
    page.wait_for_function("() => document.querySelector('#c-detail-state').innerText === 'Rejected'", timeout=15_000)
    shot(page, "console_conflict_1920_en")
    page.close()


def test_town_dispatcher_sees_and_acts_only_in_their_town(world, browser):
    mine, theirs = new_incident(world["conn"], TOWN), new_incident(world["conn"], OTHER_TOWN)
    page = open_console(browser, world, "town-dispatcher", "onemap-town-1", size="1366")
    shot(page, "console_town_dispatcher_1366_zh")
    with world["conn"].cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE cell_code LIKE %s", (TOWN + "%",))
        want = cur.fetchone()[0]
    world["conn"].rollback()
    assert page.locator("#c-total").inner_text() == f"共 {want} 条"
    places = page.evaluate("() => [...document.querySelectorAll('#c-grid .ag-row[row-id]')].map(r => r.getAttribute('row-id'))")
    with world["conn"].cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE id = ANY(%s::uuid[]) AND cell_code NOT LIKE %s", (places, TOWN + "%"))
        assert cur.fetchone()[0] == 0
    world["conn"].rollback()
    # the other town's incident: not found by number, and an action posted to the callback is refused
    page.fill("#c-number", theirs[:12])
    page.press("#c-number", "Enter")
    page.wait_for_function("() => document.querySelector('#c-total').innerText === '共 0 条'", timeout=15_000)
    select(page, mine)
    refused = _post_action(page, world, theirs)
    assert refused["status"] in (403, 404) or "未执行" in refused["body"]
    assert state_of(world, theirs) == "new"
    page.close()


def _post_action(page, world, incident_id) -> dict:
    """Post the console's action callback by hand for ``incident_id`` (as a page script could)."""
    body = {"output": "..c-message.children...c-refresh.data..", "outputs": [
        {"id": "c-message", "property": "children"}, {"id": "c-refresh", "property": "data"}],
        "inputs": [[{"id": {"action": "accept", "type": "c-act"}, "property": "n_clicks", "value": 1}], []],
        "changedPropIds": ['{"action":"accept","type":"c-act"}.n_clicks'],
        "state": [[], [], {"id": "c-seen", "property": "data", "value": {"id": incident_id, "version": 1}},
                  {"id": "c-refresh", "property": "data", "value": 0}, {"id": "lang", "property": "value", "value": "zh"}]}
    return page.evaluate("""async body => {
        const csrf = (document.cookie.match(/(?:^|; )onemap_csrf=([^;]*)/) || [])[1] || '';
        const r = await fetch('/_dash-update-component', {method: 'POST', body: JSON.stringify(body),
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)}});
        return {status: r.status, body: await r.text()};
    }""", body)


def test_paging_sorting_filters_match_sql(world, browser):
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    conn = world["conn"]

    def sql_ids(where="true", order="i.received_at DESC, i.id", limit=50, offset=0, params=()):
        with conn.cursor() as cur:
            cur.execute(f"SELECT i.id::text FROM incident i WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                        params)
            ids = [r[0] for r in cur.fetchall()]
        conn.rollback()
        return ids

    wait_rows(page, sql_ids(limit=10))
    page.locator("#c-grid .ag-paging-button").nth(2).click()  # first, previous, next, last
    wait_rows(page, sql_ids(limit=10, offset=50))
    page.wait_for_function("() => document.querySelector('#c-grid .ag-paging-description').innerText.includes('2')",
                           timeout=15_000)
    # sort by deadline, ascending (one click on the header): from the first page again
    page.click("#c-grid .ag-header-cell[col-id='due_at'] .ag-header-cell-label")
    wait_rows(page, sql_ids(order="i.due_at ASC, i.received_at DESC, i.id", limit=10))
    page.click("#c-grid .ag-header-cell[col-id='due_at'] .ag-header-cell-label")  # descending
    wait_rows(page, sql_ids(order="i.due_at DESC, i.received_at DESC, i.id", limit=10))
    # filters: a date range (YYYY-MM-DD) and a state, compared to SQL
    page.fill("#c-since", "2026-06-01")
    page.press("#c-since", "Enter")
    page.fill("#c-until", "2026-06-14")
    page.press("#c-until", "Enter")
    where = ("i.received_at >= '2026-06-01T00:00:00+08:00' AND i.received_at < '2026-06-15T00:00:00+08:00'")
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM incident i WHERE {where}")
        n = cur.fetchone()[0]
    conn.rollback()
    assert n > 0
    page.wait_for_function("t => document.querySelector('#c-total').innerText === t", arg=f"共 {n} 条", timeout=15_000)
    wait_rows(page, sql_ids(where, "i.due_at DESC, i.received_at DESC, i.id", limit=10))
    page.click("#c-state")
    page.get_by_role("option", name="已结案", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => (window.onemapConsoleRows.query.states || []).includes('closed')", timeout=15_000)
    where += " AND i.state = 'closed'"
    wait_rows(page, sql_ids(where, "i.due_at DESC, i.received_at DESC, i.id", limit=10))
    page.fill("#c-since", "06/01/2026")
    page.press("#c-since", "Enter")
    page.wait_for_function("() => document.querySelector('#c-filter-error').innerText.length > 0", timeout=15_000)
    shot(page, "console_filters_1920_zh")
    page.close()


def test_free_text_finds_descriptions_by_one_or_two_characters(world, browser):
    """Typing in the text filter: the table holds what a scan of descriptions and names finds, for
    one character, two, and a cell name; the count says how many."""
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    conn = world["conn"]
    names = ("(strpos(lower(i.description), lower(%(t)s)) > 0 OR strpos(lower((SELECT c.name || ' ' || c.name_en "
             "FROM incident_category c WHERE c.code = i.category_code)), lower(%(t)s)) > 0 OR strpos(lower("
             "(SELECT g.name || ' ' || coalesce(g.name_en, '') FROM grid_unit g WHERE g.code = i.cell_code)), "
             "lower(%(t)s)) > 0)")
    for text in ("漏", "垃圾", "第3网格"):
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM incident i WHERE {names}", {"t": text})
            n = cur.fetchone()[0]
            cur.execute(f"SELECT i.id::text FROM incident i WHERE {names} ORDER BY i.received_at DESC, i.id LIMIT 10",
                        {"t": text})
            ids = [r[0] for r in cur.fetchall()]
        conn.rollback()
        assert 0 < n < 10_000, text
        page.fill("#c-text", text)
        page.press("#c-text", "Enter")
        page.wait_for_function("t => document.querySelector('#c-total').innerText === t",
                               arg=f"共 {n} 条", timeout=15_000)
        wait_rows(page, ids)
    page.close()


def test_search_by_number_and_place(world, browser):
    iid = new_incident(world["conn"])
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    page.fill("#c-search", iid[:8])
    page.press("#c-search", "Enter")
    hit = page.locator(".om-c-hit").first
    hit.wait_for(timeout=15_000)
    hit.click()
    page.wait_for_function("id => (e => e && id.startsWith(e.innerText))(document.querySelector('#c-detail-number'))",
                           arg=iid, timeout=15_000)
    # a place: the town's name narrows the table to the town
    with world["conn"].cursor() as cur:
        cur.execute("SELECT name FROM grid_unit WHERE code = %s", (TOWN,))
        town_name = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM incident WHERE cell_code LIKE %s", (TOWN + "%",))
        in_town = cur.fetchone()[0]
    world["conn"].rollback()
    page.fill("#c-search", town_name)
    page.press("#c-search", "Enter")
    page.locator(".om-c-hit", has_text=town_name).first.wait_for(timeout=15_000)
    shot(page, "console_search_1920_zh")
    scale = page.evaluate(SCALE_M)  # the open incident's map, on its cell
    page.locator(".om-c-hit", has_text=town_name).first.click()
    page.wait_for_function("t => document.querySelector('#c-total').innerText === t", arg=f"共 {in_town} 条",
                           timeout=15_000)
    # ... and the console's map moves to the town (search_box.jump_target, assets/onemap_jump.js)
    page.wait_for_function(f"s => ({SCALE_M})() > 2 * s", arg=scale, timeout=15_000)
    # with the town's cells drawn on it
    page.wait_for_function("() => document.querySelectorAll('#c-map path[stroke=\"#ffd166\"]').length > 20",
                           timeout=15_000)
    shot(page, "console_search_place_map_1920_zh")
    page.close()
    # with no incident open, choosing a place shows a map of it beside the table
    with world["conn"].cursor() as cur:
        cur.execute("SELECT name FROM facility WHERE region_code = %s AND geom && (SELECT geom FROM grid_unit "
                    "WHERE code = %s) ORDER BY id LIMIT 1", (REGION, TOWN))
        facility = cur.fetchone()[0]
    world["conn"].rollback()
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    assert page.locator("#c-map").count() == 0
    page.fill("#c-search", facility)
    page.press("#c-search", "Enter")
    page.locator(".om-c-hit", has_text=facility).first.click()
    # the place ringed, the cells of its village drawn around it
    page.wait_for_function("() => document.querySelectorAll('#c-map .leaflet-overlay-pane path').length > 2",
                           timeout=15_000)
    assert page.locator("#c-map path[stroke='#ffffff'][fill='none']").count() == 1
    label = page.inner_text("#c-unit-label")
    assert re.search(r"15062300\d{4}", label), label  # the table narrowed to the facility's village
    shot(page, "console_search_facility_1920_zh")
    assert page.errors == [], page.errors
    page.close()


def test_escalation_raises_one_alert(world, browser):
    iid = new_incident(world["conn"])
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher", lang="en")
    page.wait_for_function("() => document.querySelector('#c-live').className === 'om-live'", timeout=15_000)
    conn = world["conn"]
    with conn.cursor() as cur:  # the deadline passes: escalation as the server runs it
        cur.execute("UPDATE incident SET due_at = now() - interval '1 minute' WHERE id = %s", (iid,))
    conn.commit()
    incidents.escalate_due(conn, region_code=REGION, now=datetime.now(timezone.utc))
    alert = page.locator(".om-c-alert", has_text=iid[:8])
    alert.first.wait_for(timeout=15_000)
    assert alert.count() == 1 and "escalated" in alert.first.inner_text()
    shot(page, "console_alert_1920_en")
    # a later action on the same incident at the same level raises nothing new
    incidents.act(conn, _admin(), iid, "dispatch")
    page.locator(f'#c-grid .ag-row[row-id="{iid}"]', has_text="Dispatched").wait_for(timeout=15_000)  # it came
    assert page.locator(".om-c-alert", has_text=iid[:8]).count() == 1
    assert page.evaluate("() => window.onemapConsoleBeeps || 0") == 0  # no sound unless asked for
    # with the sound on, the next level's escalation raises a second alert, and a beep
    page.locator("#c-sound input").check()
    with conn.cursor() as cur:
        cur.execute("UPDATE incident SET due_at = now() - interval '1 minute' WHERE id = %s", (iid,))
    conn.commit()
    incidents.escalate_due(conn, region_code=REGION, now=datetime.now(timezone.utc))
    page.locator(".om-c-alert", has_text=iid[:8]).nth(1).wait_for(timeout=15_000)
    assert page.locator(".om-c-alert", has_text=iid[:8]).count() == 2
    page.wait_for_function("() => (window.onemapConsoleBeeps || 0) >= 1", timeout=15_000)
    alert.first.locator("button").click()
    page.wait_for_function("id => (e => e && id.startsWith(e.innerText))(document.querySelector('#c-detail-number'))",
                           arg=iid, timeout=15_000)
    page.close()


def test_leader_looks_and_others_are_refused(world, browser):
    iid = new_incident(world["conn"])
    page = open_console(browser, world, "demo-leader", "onemap-leader", size="1366", lang="en")
    select(page, iid)
    assert page.locator("#c-read-only").count() == 1 and page.locator("#c-detail .om-btn").count() == 0
    assert page.locator("#c-detail-desc").inner_text() == "(not shown to this role)"
    shot(page, "console_leader_1366_en")
    page.close()
    for user in ("plain-analyst", "demo-worker"):  # the page itself answers 403 to other roles
        token = issue_token(world["conn"], user, "console-test")
        world["conn"].commit()
        r = requests.get(world["url"] + "/console", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, user


@pytest.mark.parametrize("size", ["1920", "1366"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_layout_nothing_overlaps(world, browser, size, lang):
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher", size=size, lang=lang)
    page.locator("#c-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").first.click()
    page.wait_for_selector("#c-detail-number", timeout=15_000)
    boxes = page.evaluate("""() => [...document.querySelectorAll('.om-console .om-header > *')]
        .filter(e => e.offsetParent !== null && !e.classList.contains('om-spacer'))
        .map(e => { const r = e.getBoundingClientRect(); return [e.id || e.className, r.left, r.top, r.right, r.bottom]; })""")
    for i, a in enumerate(boxes):
        assert a[4] <= 56 + 1, f"{a[0]} wraps below the header"
        assert a[3] <= SIZES[size][0], f"{a[0]} runs off the screen"
        for b in boxes[i + 1:]:
            overlap = min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1
            assert not overlap, f"{a[0]} overlaps {b[0]}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SIZES[size][0]
    shot(page, f"console_layout_{size}_{lang}")
    assert page.errors == [], page.errors
    page.close()


def test_grid_runs_offline_under_the_strict_csp(world, browser):
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    page.locator("#c-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").first.click()
    page.wait_for_selector("#c-detail-number", timeout=15_000)
    page.click("#c-grid .ag-header-cell[col-id='state'] .ag-header-cell-label")
    page.wait_for_timeout(1000)
    csp = requests.get(world["url"] + "/login").headers["Content-Security-Policy"]
    assert "unsafe-eval" not in csp and re.search(r"script-src 'self'", csp)
    assert page.evaluate("() => window.__cspViolations") == []
    assert page.hosts == {"127.0.0.1"}, page.hosts  # ag-grid's scripts and styles come from the app
    assert page.errors == []
    page.close()


def test_console_from_the_production_server(world, browser, tmp_path):
    """`onemap serve` (several processes): the table's lazily loaded grid code comes from any process."""
    from served import onemap_serve

    failures: list[str] = []
    errors: list[str] = []
    with onemap_serve(world["dsn"], tmp_path / "server.log", workers=2) as base:
        for _attempt in range(2):
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login?next=/console")
            page.fill("#username", "demo-dispatcher")
            page.fill("#password", "onemap-dispatcher")
            page.click("button[type=submit]")
            page.wait_for_selector("#c-grid .ag-row[row-id]", timeout=60_000)
            page.context.close()
        assert errors == []
        log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert failures == [] and "Traceback" not in log, (failures, log[-3000:])



def _sql_ids(conn, where: str, limit: int = 10) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT i.id::text FROM incident i WHERE {where} ORDER BY i.received_at DESC, i.id LIMIT {limit}")
        ids = [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT count(*) FROM incident i WHERE {where}")
        n = cur.fetchone()[0]
    conn.rollback()
    return ids, n


def test_a_late_answer_for_old_filters_changes_nothing(world, browser):
    """The race behind an empty table under the right count: the page for filters that have since
    changed answers late. The grid's own datasource hands each answer to the request that asked
    for it, so the late one fills nothing and its count is not shown: the newer rows and count
    stay."""
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    conn = world["conn"]
    may, n_may = _sql_ids(conn, "i.received_at < '2026-06-01T00:00:00+08:00'")
    april, n_april = _sql_ids(conn, "i.received_at < '2026-05-01T00:00:00+08:00'")
    assert may and april and may != april and n_may != n_april
    held, answered = [], []

    def hold_the_may_page(route):
        if not held and "2026-05-31" in route.request.url:
            held.append(route)  # answered later, by hand
        else:
            answered.append(route.request.url)
            route.continue_()

    page.route("**/console/rows*", hold_the_may_page)
    page.fill("#c-until", "2026-05-31")
    page.press("#c-until", "Enter")
    deadline = time.monotonic() + 15
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "the page for the first filter was never asked for"
    page.fill("#c-until", "2026-04-30")
    page.press("#c-until", "Enter")
    page.wait_for_function("() => document.querySelector('#c-until').value === '2026-04-30'")
    page.wait_for_timeout(500)
    held[0].continue_()  # the old answer arrives now, after the filters changed
    wait_rows(page, april)
    page.wait_for_function("t => document.querySelector('#c-total').innerText === t", arg=f"共 {n_april} 条",
                           timeout=15_000)
    page.wait_for_timeout(1500)
    assert grid_ids(page)[:len(april)] == april
    assert page.locator("#c-total").inner_text() == f"共 {n_april} 条"
    assert any("2026-04-30" in u for u in answered)
    page.close()


def test_a_failed_page_is_fetched_again_and_then_said(world, browser):
    """A page whose fetch fails (the network drops it) is fetched again; a page the server refuses
    (signed out meanwhile) is said in the count's place, in the page's language, not left blank."""
    page = open_console(browser, world, "demo-dispatcher", "onemap-dispatcher")
    conn = world["conn"]
    want, n = _sql_ids(conn, "i.received_at < '2026-03-01T00:00:00+08:00'")
    assert want
    dropped = []

    def drop_once(route):
        if not dropped and "2026-02-28" in route.request.url:
            dropped.append(1)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/console/rows*", drop_once)
    page.fill("#c-until", "2026-02-28")
    page.press("#c-until", "Enter")
    wait_rows(page, want)
    assert dropped == [1] and page.evaluate("() => window.onemapConsoleRows.failures") == 1
    assert page.locator("#c-total").inner_text() == f"共 {n} 条"
    page.unroute("**/console/rows*")
    page.click("#c-clear")  # all incidents again: more than one page
    page.wait_for_function("() => document.querySelector('#c-grid .ag-paging-description').innerText.includes('1')",
                           timeout=15_000)
    wait_rows(page, _sql_ids(conn, "true")[0])
    page.context.clear_cookies()  # signed out meanwhile: the server refuses the next page
    page.locator("#c-grid .ag-paging-button").nth(2).click()  # first, previous, next, last
    page.wait_for_function("() => document.querySelector('#c-total').innerText.includes('登录')", timeout=15_000)
    page.close()


def test_rows_endpoint_keeps_jurisdiction_and_refuses_bad_input(world):
    """GET /console/rows, the table's only source: the role gate, the town's jurisdiction, the
    filters as on the page, and clear 4xx for what cannot be read."""
    conn = world["conn"]
    tokens = {}
    for user in ("town-dispatcher", "demo-dispatcher", "plain-analyst", "demo-worker"):
        tokens[user] = issue_token(conn, user, "rows-test")
    conn.commit()

    def get(user, **params):
        return requests.get(world["url"] + "/console/rows", params=params, timeout=30,
                            headers={"Authorization": f"Bearer {tokens[user]}"})

    for user in ("plain-analyst", "demo-worker"):
        assert get(user).status_code == 403, user
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE cell_code LIKE %s", (TOWN + "%",))
        in_town = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM incident")
        everywhere = cur.fetchone()[0]
    conn.rollback()
    mine = get("town-dispatcher", end=200).json()
    assert mine["total"] == in_town < everywhere and mine["label"] == f"共 {in_town} 条"
    assert len(mine["rows"]) == min(in_town, 200)
    ids = [r["id"] for r in mine["rows"]]
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM incident WHERE id = ANY(%s::uuid[]) AND cell_code NOT LIKE %s", (ids, TOWN + "%"))
        assert cur.fetchone()[0] == 0
    conn.rollback()
    other = get("town-dispatcher", q='{"unit": "%s"}' % OTHER_TOWN).json()  # another town: nothing
    assert other["total"] == 0 and other["rows"] == []
    county = get("demo-dispatcher", q='{"states": ["closed"]}', sort="due_at", dir="asc", start=3, end=8,
                 lang="en").json()
    with conn.cursor() as cur:
        cur.execute("SELECT id::text FROM incident WHERE state = 'closed' "
                    "ORDER BY due_at ASC, received_at DESC, id LIMIT 5 OFFSET 3")
        assert [r["id"] for r in county["rows"]] == [r[0] for r in cur.fetchall()]
    conn.rollback()
    assert county["label"].startswith("Incidents: ") and county["rows"][0]["state_label"] == "Closed"
    for q in ("{", "[]", '"x"', "{" + " " * 5000 + "}"):
        r = get("demo-dispatcher", q=q)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request", q
    # filters that cannot be read are dropped, as on the page (the count is everything's)
    odd = get("demo-dispatcher", q=r'{"levels": 5, "states": {"a": 1}, "text": "\u0000 ", "since": "0001-01-01",'
              r' "until": "9999-12-31", "number": [1], "unit": "١٥٠", "overdue": "yes"}', start="-1", end="x",
              sort="'; drop", dir="sideways")
    assert odd.status_code == 200 and odd.json()["total"] == everywhere, odd.text[:300]
    assert get("demo-dispatcher", q=r'{"text": "\ud800"}').status_code == 200  # a lone surrogate


def test_past_the_count_cap_the_total_is_unknown_and_said_as_more_than(world, monkeypatch):
    """More matches than data.console.COUNT_CAP: the rows endpoint says "more than" and gives no
    total (the grid learns the end when a page comes back short)."""
    from data import console

    monkeypatch.setattr(console, "COUNT_CAP", 100)
    token = issue_token(world["conn"], "demo-dispatcher", "rows-cap-test")
    world["conn"].commit()
    body = requests.get(world["url"] + "/console/rows", params={"start": 0, "end": 50}, timeout=30,
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert body["total"] is None and body["label"] == "共 100 条以上" and len(body["rows"]) == 50
