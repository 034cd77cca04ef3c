"""One meaning of open, closed and overdue on every surface (issue 9, point 1).

For each state of the state machine × deadline passed or not, an incident is written in that
condition (its own rows in one demo cell, deleted afterwards) and read back through /api/v1 (list
and get), OGC API items, every export format (files read back: GeoJSON and CSV directly, GeoPackage
with sqlite3, FlatGeobuf, Shapefile and KML through GDAL), Open311, the KPIs and per-unit counts,
the map layer (rows, points and clusters) and the live stream (NOTIFY payload, replay, and the
served SSE endpoint). Every surface must say what domain/phase.py (= 0010_phase.sql) says.
"""
from __future__ import annotations

import csv
import json
import select
import sqlite3
import time
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime, timedelta

import pyogrio
import pytest
import requests

from data import stats
from data.users import actor_for_token, issue_token
from db.core import connect, sql
from domain import clock, phase
from exports import service as ex
from layers import registry
from layers.base import Query

REGION = "150623"
NOW = datetime.now(UTC).replace(microsecond=0)
CASES = [(state, passed) for state in phase.STATES for passed in (True, False)]


def truth(value) -> bool:
    """A boolean as any format writes it (JSON true, GDAL 1, CSV "True", KML "true")."""
    return value in (True, 1, "1", "true", "True", "T", "t")


def _expected(state: str, passed: bool) -> dict:
    return {"state": state, "phase": phase.phase(state), "open": phase.is_open(state),
            "overdue": phase.is_open(state) and passed, "open311": phase.open311_status(state)}


def _one(conn, query, params=()):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()


def _counts(dsn: str, actor, cell: str) -> dict:
    """What the dashboard's aggregates and the map's clusters say about ``cell`` now."""
    tz = stats.region_timezone(dsn, REGION)
    f = stats.Filters.last_days(30, now=NOW, tz=tz)
    k = stats.kpis(dsn, REGION, cell, f)
    village = cell[:12]
    (child,) = [c for c in stats.children(dsn, REGION, village[:9], 2, f) if c["code"] == village]
    metric = stats.cell_metrics(dsn, REGION, cell, f)[cell]
    clusters = json.loads(registry.geojson(dsn, "incidents", actor, Query(unit=cell), zoom=5))
    (cluster,) = [c["properties"] for c in clusters["features"] if c["properties"].get("cell_code") == cell] or [{}]
    return {"kpi_open": k["open"], "kpi_overdue": k["overdue"], "village_open": child["open"],
            "village_overdue": child["overdue"], "cell_overdue": metric["overdue"],
            "cluster_open": cluster.get("open") or 0, "cluster_overdue": cluster.get("overdue") or 0}


@pytest.fixture(scope="module")
def world(demo_dsn, demo_server):
    """18 incidents of our own in one cell, committed (the served app reads them), then deleted."""
    conn = connect(demo_dsn)
    token = issue_token(conn, "demo-leader", "test_surfaces")
    conn.commit()
    leader = actor_for_token(conn, token)
    conn.commit()
    cell, lon, lat = _one(conn, """SELECT code, ST_X(p), ST_Y(p) FROM grid_unit, ST_PointOnSurface(geom) p
                                   WHERE region_code = %s AND level = 4 ORDER BY code DESC LIMIT 1""", (REGION,))
    category = _one(conn, "SELECT code FROM incident_category ORDER BY code LIMIT 1")[0]
    before = _counts(demo_dsn, leader, cell)
    (last_event,) = _one(conn, "SELECT coalesce(max(id), 0) FROM incident_event")
    conn.commit()
    listener = connect(demo_dsn)
    listener.autocommit = True
    with listener.cursor() as cur:
        cur.execute("LISTEN onemap_events")
    cases = {}
    with conn.cursor() as cur:
        for state, passed in CASES:
            iid = str(uuid.uuid4())
            done = phase.phase(state) != "open" and state != "rejected"
            cur.execute("""
                INSERT INTO incident (id, region_code, category_code, description, geom, observed_at,
                                      received_at, state, handling_level, due_at, resolved_at, solved_level,
                                      closed_at)
                VALUES (%(id)s, %(region)s, %(cat)s, 'test_surfaces', ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
                        %(received)s, %(received)s, %(state)s, 1, %(due)s, %(resolved)s, %(level)s, %(closed)s)""",
                        {"id": iid, "region": REGION, "cat": category, "lon": lon, "lat": lat, "state": state,
                         "received": NOW - timedelta(days=2),
                         "due": NOW - timedelta(hours=1) if passed else NOW + timedelta(days=30),
                         "resolved": NOW - timedelta(days=1) if done else None, "level": 1 if done else None,
                         "closed": NOW - timedelta(hours=12) if state == "closed" else None})
            cases[iid] = _expected(state, passed)
        cur.execute("""INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor)
                       SELECT id, region_code, %s, 'note', state, state, handling_level, 'test_surfaces'
                       FROM incident WHERE id = ANY(%s::uuid[])""", (NOW, list(cases)))
    conn.commit()
    notes = []
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while len(notes) < len(cases) and datetime.now(UTC) < deadline:
        if select.select([listener], [], [], 1)[0]:
            listener.poll()
            notes += [json.loads(n.payload) for n in listener.notifies]
            listener.notifies.clear()
    listener.close()
    yield {"server": demo_server, "dsn": demo_dsn, "conn": conn, "cell": cell, "lon": lon, "lat": lat,
           "cases": cases, "leader": leader, "auth": {"Authorization": f"Bearer {token}"}, "token": token,
           "before": before, "notes": notes, "last_event": last_event}
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM incident WHERE id = ANY(%s::uuid[])", (list(cases),))
    conn.commit()
    conn.close()


def _ours(world, items, key="id"):
    return {str(i[key]): i for i in items if str(i[key]) in world["cases"]}


def test_api_list_and_get_agree_with_the_definition(world):
    base = world["server"] + "/api/v1/incidents"
    r = requests.get(base, params={"unit": world["cell"], "limit": 500}, headers=world["auth"], timeout=30)
    assert r.status_code == 200, r.text
    listed = _ours(world, r.json()["items"])
    assert set(listed) == set(world["cases"])
    for iid, want in world["cases"].items():
        assert (listed[iid]["state"], listed[iid]["overdue"]) == (want["state"], want["overdue"]), want
        got = requests.get(f"{base}/{iid}", headers=world["auth"], timeout=30).json()
        assert (got["state"], got["overdue"]) == (want["state"], want["overdue"]), want
        # times carry the region's offset and are the same instant
        assert got["received_at"].endswith("+08:00")
        assert datetime.fromisoformat(got["received_at"]) == NOW - timedelta(days=2)
    for params, wanted in (({"state": "open"}, lambda w: w["open"]), ({"overdue": "true"}, lambda w: w["overdue"])):
        r = requests.get(base, params={"unit": world["cell"], "limit": 500, **params}, headers=world["auth"], timeout=30)
        assert r.status_code == 200, r.text
        assert set(_ours(world, r.json()["items"])) == {i for i, w in world["cases"].items() if wanted(w)}, params


def test_ogc_items_agree_and_state_open_means_the_same(world):
    url = world["server"] + "/ogc/collections/incidents/items"
    r = requests.get(url, params={"cell_code": world["cell"], "limit": 1000}, headers=world["auth"], timeout=60)
    assert r.status_code == 200, r.text
    got = _ours(world, [f["properties"] for f in r.json()["features"]])
    assert set(got) == set(world["cases"])
    for iid, want in world["cases"].items():
        p = got[iid]
        assert (p["state"], p["status"], p["overdue"]) == (want["state"], want["phase"], want["overdue"]), want
        assert datetime.fromisoformat(p["due_at"]).utcoffset() == timedelta(hours=8)
    r = requests.get(url, params={"cell_code": world["cell"], "state": "open", "limit": 1000},
                     headers=world["auth"], timeout=60)
    assert set(_ours(world, [f["properties"] for f in r.json()["features"]])) == \
        {i for i, w in world["cases"].items() if w["open"]}


def _read_export(path, fmt: str) -> list[dict]:
    """Rows of an export file as {id, state, status, overdue}, read the way a user's tool would."""
    zh = {"id": "编号", "state": "状态", "status": "办结情况", "overdue": "是否超期"}
    if fmt == "geojson":
        rows = [f["properties"] for f in json.loads(path.read_text(encoding="utf-8"))["features"]]
    elif fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    elif fmt == "gpkg":
        db = sqlite3.connect(path)
        (table,) = db.execute("SELECT table_name FROM gpkg_contents").fetchone()
        cur = db.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        db.close()
    elif fmt == "kml":
        kml = "{http://www.opengis.net/kml/2.2}"
        rows = [{d.get("name"): d.text for d in pm.iter(kml + "SimpleData")}
                for pm in ET.parse(path).getroot().iter(kml + "Placemark")]
    else:  # FlatGeobuf, zipped Shapefile: through GDAL
        target = f"/vsizip/{path}" if fmt == "shp" else str(path)
        if fmt == "shp":
            target += "/" + next(n for n in zipfile.ZipFile(path).namelist() if n.endswith(".shp"))
        meta, _, _, values = pyogrio.raw.read(target)
        names = list(meta["fields"])
        rows = [dict(zip(names, vals, strict=True)) for vals in zip(*values, strict=True)]
        if fmt == "shp":  # Shapefile names are the ≤10-byte aliases
            zh = {"id": "id", "state": "state", "status": "status", "overdue": "overdue"}
    return [{k: r.get(v) for k, v in zh.items()} for r in rows]


@pytest.mark.parametrize("fmt", list(ex.FORMATS))
def test_every_export_format_agrees(world, fmt, tmp_path):
    out = tmp_path / f"incidents.{'zip' if fmt == 'shp' else ex.FORMATS[fmt].ext}"
    ex.run(world["dsn"], world["leader"], ex.ExportRequest(("incidents",), fmt, "EPSG:4326", Query(unit=world["cell"])), out)
    got = _ours(world, _read_export(out, fmt))
    assert set(got) == set(world["cases"]), fmt
    for iid, want in world["cases"].items():
        row = got[iid]
        assert (row["state"], row["status"], truth(row["overdue"])) == (want["state"], want["phase"], want["overdue"]), (fmt, want)


def test_an_export_of_state_open_returns_what_the_api_calls_open(world, tmp_path):
    out = tmp_path / "open.geojson"
    ex.run(world["dsn"], world["leader"],
           ex.ExportRequest(("incidents",), "geojson", "EPSG:4326", Query(unit=world["cell"], states=("open",))), out)
    exported = set(_ours(world, _read_export(out, "geojson")))
    r = requests.get(world["server"] + "/api/v1/incidents", params={"unit": world["cell"], "state": "open", "limit": 500},
                     headers=world["auth"], timeout=30)
    assert exported == set(_ours(world, r.json()["items"])) == {i for i, w in world["cases"].items() if w["open"]}


def test_open311_status_and_overdue_agree(world):
    r = requests.get(world["server"] + "/open311/v2/requests.json", timeout=60,
                     params={"api_key": world["token"], "service_request_id": ",".join(world["cases"])})
    assert r.status_code == 200, r.text
    got = _ours(world, r.json(), key="service_request_id")
    assert set(got) == set(world["cases"])
    for iid, want in world["cases"].items():
        assert (got[iid]["status"], got[iid]["overdue"]) == (want["open311"], want["overdue"]), want
        assert (got[iid]["expected_datetime"] is None) == (not want["open"])


def test_kpis_unit_counts_and_map_clusters_count_exactly_the_open_and_overdue(world):
    after = _counts(world["dsn"], world["leader"], world["cell"])
    n_open = sum(w["open"] for w in world["cases"].values())
    n_overdue = sum(w["overdue"] for w in world["cases"].values())
    delta = {k: after[k] - world["before"][k] for k in after}
    assert delta == {"kpi_open": n_open, "kpi_overdue": n_overdue, "village_open": n_open,
                     "village_overdue": n_overdue, "cell_overdue": n_overdue,
                     "cluster_open": n_open, "cluster_overdue": n_overdue}


def test_map_points_agree(world):
    """The map's points variant (the clusters are counted above; the layer's own rows are what OGC
    and the exports read)."""
    d = 0.01
    bbox = (world["lon"] - d, world["lat"] - d, world["lon"] + d, world["lat"] + d)
    points = json.loads(registry.geojson(world["dsn"], "incidents", world["leader"],
                                         Query(unit=world["cell"], bbox=bbox), zoom=16))
    classes = {p["id"]: p["class"] for p in (f["properties"] for f in points["features"]) if p.get("id") in world["cases"]}
    assert set(classes) == set(world["cases"])
    for iid, want in world["cases"].items():
        assert (classes[iid] == "overdue") == want["overdue"], want
        assert (classes[iid] in ("new", "in_hand", "overdue")) == want["open"], want


def _check_events(world, events: list[dict]) -> None:
    got = {e["incident_id"]: e for e in events if e.get("incident_id") in world["cases"]}
    assert set(got) == set(world["cases"])
    for iid, want in world["cases"].items():
        e = got[iid]
        assert (e["state"], e["phase"], e["overdue"]) == (want["state"], want["phase"], want["overdue"]), want


def test_live_notifications_and_replay_agree(world):
    _check_events(world, world["notes"])
    with world["conn"].cursor() as cur:
        cur.execute(sql("live_events_after"), {"after": world["last_event"], "limit": 100_000})
        replayed = [json.loads(p) for _, p in cur.fetchall()]
    world["conn"].rollback()
    _check_events(world, replayed)


def test_the_served_live_stream_agrees(world):
    """The page's own stream (replay from Last-Event-ID), as a browser would read it."""
    headers = {**world["auth"], "Last-Event-ID": str(world["last_event"]), "Accept": "text/event-stream"}
    events = []
    with requests.get(world["server"] + "/events/stream", headers=headers, stream=True, timeout=20) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                e = json.loads(line[5:])
                events.append(e)
                if len({x.get("incident_id") for x in events} & set(world["cases"])) == len(world["cases"]):
                    break
    _check_events(world, events)


def test_the_incident_panel_shows_local_time_in_each_regions_zone(world):
    """The leaders' incident panel: a report received 06:19 UTC shows 14:19 in Ordos, and the same
    panel for a region in Berlin shows Berlin's time (a second region with its own zone)."""
    from dashboard.leaders import incident_panel
    from data import incidents

    conn, leader = world["conn"], world["leader"]
    iid = next(i for i, w in world["cases"].items() if w["state"] == "new" and not w["overdue"])
    due = NOW + timedelta(days=30)
    item = incidents.get(conn, leader, iid)
    conn.rollback()
    text = repr(incident_panel(item, [], "zh", stats.region_timezone(world["dsn"], REGION)))
    assert clock.fmt_local(due, "Asia/Shanghai") in text
    assert due.strftime("%Y-%m-%d %H:%M") not in text  # the UTC wall-clock time is not shown as local
    # a second region in another zone, on the same connection (rolled back afterwards)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO region (region_code, name, timezone) VALUES ('990001', 'Testkreis', 'Europe/Berlin')")
        square = "ST_Multi(ST_MakeEnvelope(13.3, 52.4, 13.5, 52.6, 4326))"
        for code, level, parent in (("990001", 1, None), ("990001001", 2, "990001"),
                                    ("990001001001", 3, "990001001"), ("990001001001001", 4, "990001001001")):
            cur.execute(f"INSERT INTO grid_unit (code, region_code, level, parent_code, name, geom) "
                        f"VALUES (%s, '990001', %s, %s, %s, {square})", (code, level, parent, code))
        other = str(uuid.uuid4())
        cur.execute("""INSERT INTO incident (id, region_code, category_code, geom, observed_at, received_at, state,
                                             handling_level, due_at)
                       VALUES (%s, '990001', (SELECT code FROM incident_category LIMIT 1),
                               ST_SetSRID(ST_MakePoint(13.4, 52.5), 4326), %s, %s, 'new', 4, %s)""",
                    (other, NOW, NOW, datetime(2026, 1, 15, 23, 0, tzinfo=UTC)))
        cur.execute("""INSERT INTO incident_event (incident_id, region_code, at, action, to_state, level, actor)
                       VALUES (%s, '990001', %s, 'report', 'new', 4, 'test')""",
                    (other, datetime(2026, 1, 15, 6, 19, tzinfo=UTC)))
    berlin = type(leader)(user_id=leader.user_id, username="t", role="admin", unit_code="990001", region_code="990001")
    tz = stats.region_timezone_of(conn, "990001")
    item = incidents.get(conn, berlin, other)  # (ends the transaction: nothing of it stays)
    assert tz == "Europe/Berlin" and item["due_at"] == "2026-01-16T00:00:00+01:00"
    text = repr(incident_panel(item, [], "en", tz))
    assert "2026-01-16 00:00" in text and "01-15 07:19" in text  # UTC 23:00 / 06:19 shown as Berlin time
    conn.rollback()


def test_json_times_everywhere_carry_the_regions_offset(world):
    """Datetimes Flask serialises itself (an export job's status) are ISO 8601 with the region's
    offset too, not an HTTP date."""
    body = {"layers": ["incidents"], "format": "geojson", "crs": "EPSG:4326", "unit": world["cell"]}
    r = requests.post(world["server"] + "/api/exports", json=body, headers=world["auth"], timeout=30)
    assert r.status_code == 202, r.text
    url = world["server"] + r.json()["status_url"]
    job = requests.get(url, headers=world["auth"], timeout=30).json()
    created = datetime.fromisoformat(job["created_at"])
    assert created.utcoffset() == timedelta(hours=8) and abs(created - datetime.now(UTC)) < timedelta(hours=1)
    for _ in range(600):  # let the job end before the database goes (a wait, not a timing check)
        if requests.get(url, headers=world["auth"], timeout=30).json()["state"] in ("done", "failed", "expired"):
            break
        time.sleep(0.2)


def test_in_chromium_the_walls_clock_shows_the_regions_time(world):
    """The wall's clock runs in the browser with the region's zone from its row (Chromium here runs
    in the machine's zone, UTC: a clock in the browser's zone would be 8 hours off)."""
    from conftest import chromium

    with chromium() as browser:
        page = browser.new_page(timezone_id="UTC")
        page.goto(world["server"] + "/login")
        page.fill("#username", "demo-leader")
        page.fill("#password", "onemap-leader")
        page.click("button[type=submit]")
        page.wait_for_url(world["server"] + "/", timeout=15_000)
        page.goto(world["server"] + "/wall")
        page.wait_for_function("() => /\\d{2}:\\d{2}:\\d{2}/.test((document.querySelector('#w-clock') || {}).innerText || '')",
                               timeout=30_000)
        shown = page.inner_text("#w-clock")
    local = {clock.fmt_local(datetime.now(UTC) + timedelta(minutes=m), "Asia/Shanghai", "%H:%M") for m in (-1, 0, 1)}
    assert any(hm in shown for hm in local), (shown, local)
