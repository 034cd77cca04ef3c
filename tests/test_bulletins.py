"""Bulletins (issue 16): the PDF's and the XLSX's numbers are the dashboard's (data/stats) for the
same unit and period; Chinese by default, English on request; tables break across A4 pages with
their header repeated; kept, listed, downloadable and refused outside the caller's jurisdiction.
The PDF pages are kept as PNG images under var/screenshots/bulletins/ (look at them)."""
from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pdfplumber
import pytest

import exports.bulletin as bl
from app import Settings, create_app
from data import stats
from data.users import Actor, issue_token
from db.core import connect
from exports.bulletin import content, pdf
from exports.bulletin import text as t
from exports.bulletin.period import last_finished, parse

from conftest import DEMO_NOW

REGION = "150623"
TOWN = "150623002"  # 上海庙镇: demo-leader-shanghaimiao's jurisdiction
OTHER_TOWN = "150623001"
SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots" / "bulletins"
ANALYST = Actor(user_id=None, username="test-analyst", role="analyst", unit_code=REGION, region_code=REGION)
TOWN_LEADER = Actor(user_id=None, username="test-town", role="leader", unit_code=TOWN, region_code=REGION)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tmp_path_factory.mktemp("bulletins")


def keep_pages(path: Path) -> int:
    """Render every page to PNG under SHOTS; returns the page count."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with pdfplumber.open(path) as doc:
        for i, page in enumerate(doc.pages, 1):
            page.to_image(resolution=110).save(SHOTS / f"{path.stem}-p{i}.png")
        return len(doc.pages)


def pdf_lines(path: Path) -> list[str]:
    with pdfplumber.open(path) as doc:
        return [line for page in doc.pages for line in (page.extract_text() or "").splitlines()]


def expected(dsn: str, unit: str, period: str) -> dict:
    """The dashboard's own figures for the period (the same calls the dashboard makes)."""
    tz = stats.region_timezone(dsn, REGION)
    p = parse(period)
    f = stats.Filters(since=p.since, until=p.until, now=DEMO_NOW, tz=tz)
    return {"kpis": stats.kpis(dsn, REGION, unit, f), "ev": stats.evaluation(dsn, REGION, unit, f),
            "children": stats.children(dsn, REGION, unit, stats.unit_info(dsn, REGION, unit)["level"], f),
            "categories": stats.categories(dsn, unit, f)}


# --- periods ----------------------------------------------------------------------------------

def test_periods_and_their_comparisons():
    w = parse("2026-w47")
    assert (w.text, w.since, w.until) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 23))
    assert w.previous().text == "2026-W46" and w.last_year().text == "2025-W47"
    assert parse("2026-W01").previous().text == "2025-W52"
    assert parse("2026-W53").last_year().text == "2025-W52"  # 2025 has no week 53
    m = parse("2026-01")
    assert (m.since, m.until, m.previous().text, m.last_year().text) == (
        date(2026, 1, 1), date(2026, 2, 1), "2025-12", "2025-01")
    assert parse("2026-12").until == date(2027, 1, 1)
    assert last_finished("week", date(2026, 11, 25)).text == "2026-W47"
    assert last_finished("month", date(2026, 12, 1)).text == "2026-11"
    for bad in ("2026-W60", "2026-13", "2026", "W47", "", "2026-W00", "1800-01"):
        with pytest.raises(ValueError):
            parse(bad)


# --- the numbers --------------------------------------------------------------------------------

def test_pdf_numbers_are_the_dashboards(demo_dsn, base):
    row = bl.generate(demo_dsn, ANALYST, REGION, "2026-05", "pdf", "zh", now=DEMO_NOW, base=base)
    path = bl.file_path(row, base)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert keep_pages(path) >= 2
    lines = pdf_lines(path)
    exp = expected(demo_dsn, REGION, "2026-05")
    k, ev = exp["kpis"], exp["ev"]
    assert k["reported"] > 0  # the demo has a history in May: the check below compares real numbers

    def row_of(label: str) -> list[str]:
        found = [ln for ln in lines if ln.startswith(label + " ")]
        assert found, f"no line for {label}"
        return found[0][len(label):].split()

    assert row_of("上报事件")[0] == str(k["reported"])
    assert row_of("办结")[0] == str(k["solved"])
    assert row_of("办结率")[0] == f"{k['solved_pct']:.1f}%"
    assert row_of("按期办结率")[0] == f"{k['on_time_pct']:.1f}%"
    assert row_of("网格内解决率")[0] == f"{k['solved_in_grid_pct']:.1f}%"
    assert row_of("平均处置时长（小时）")[0] == f"{k['mean_hours']:.1f}"
    assert row_of("立案")[0] == str(ev["opened"])
    assert row_of("派遣")[0] == str(ev["dispatched"])
    assert row_of("结案")[0] == str(ev["closed"])
    assert row_of("上报至苏木镇")[0] == str(ev["escalations"][2])
    # the previous month, as the dashboard counts it
    prev = expected(demo_dsn, REGION, "2026-04")["kpis"]
    assert row_of("上报事件")[1] == str(prev["reported"])
    # ranked towns: each town's line carries its reports and solutions
    text = "\n".join(lines)
    for kid in exp["children"]:
        assert re.search(rf"{kid['name']} {kid['population']} {kid['reported']} {kid['solved']} "
                         rf"{kid['solved_in_grid']} {kid['open']} {kid['overdue']}", text), kid["name"]
    top = [c for c in exp["categories"] if c["reported"]][0]
    assert re.search(rf"1 {top['name']} {top['reported']} {top['solved']}", text)
    assert "鄂托克前旗社会治理月报（2026-05）" in text


def test_xlsx_numbers_are_the_dashboards(demo_dsn, base):
    row = bl.generate(demo_dsn, ANALYST, OTHER_TOWN, "2026-W21", "xlsx", "zh", now=DEMO_NOW, base=base)
    wb = openpyxl.load_workbook(bl.file_path(row, base))
    sheet = wb.worksheets[0]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=5, values_only=True) if r[1]}
    cur, prev, ly = (expected(demo_dsn, OTHER_TOWN, p) for p in ("2026-W21", "2026-W20", "2025-W21"))
    assert cur["kpis"]["reported"] > 0
    for key in ("reported", "solved", "solved_pct", "on_time_pct", "solved_in_grid_pct", "mean_hours"):
        assert rows[key][2:5] == (cur["kpis"][key], prev["kpis"][key], ly["kpis"][key]), key
    for key in ("opened", "dispatched", "closed", "reopen_pct", "merged"):
        assert rows[key][2] == cur["ev"][key], key
    for key in ("visit_pct", "satisfaction_pct"):
        assert rows[key][2] == cur["kpis"][key], key
    assert rows["escalations_3"][2] == cur["ev"]["escalations"][3]
    kids = {r[1]: r for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert len(kids) == len(cur["children"]) > 0
    for c in cur["children"]:
        assert kids[c["code"]][3:] == (c["population"], c["reported"], c["solved"], c["solved_in_grid"],
                                       c["open"], c["overdue"])
    trend = wb.worksheets[4]
    assert sum(r[1] for r in trend.iter_rows(min_row=2, values_only=True)) == cur["kpis"]["reported"]


def test_english_switch(demo_dsn, base):
    row = bl.generate(demo_dsn, ANALYST, TOWN, "2026-W22", "pdf", "en", now=DEMO_NOW, base=base)
    path = bl.file_path(row, base)
    keep_pages(path)
    text = "\n".join(pdf_lines(path))
    assert "weekly governance bulletin, 2026-W22" in text and "1. Key indicators" in text
    k = expected(demo_dsn, TOWN, "2026-W22")["kpis"]
    assert re.search(rf"^Reports {k['reported']} ", text, re.M)
    assert "主要指标" not in text


def test_long_tables_repeat_their_header_on_every_page(demo_dsn):
    """A table longer than a page breaks cleanly: its header row heads every page it runs onto."""
    b = content.build(demo_dsn, REGION, REGION, parse("2026-05"), DEMO_NOW)
    due = DEMO_NOW - timedelta(hours=30)
    fake = [{"id": uuid.uuid4(), "category": "public_order", "category_name": "治安隐患", "category_name_en": None,
             "cell_code": f"cell{i}", "cell_name": f"网格{i}", "cell_name_en": None, "state": "accepted",
             "level": 4, "received_at": due, "due_at": due} for i in range(150)]
    b = content.Bulletin(**{**b.__dict__, "overdue": fake})
    out = SHOTS / "long-table.pdf"
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf.write(b, "zh", out)
    with pdfplumber.open(out) as doc:
        pages = [p.extract_text() or "" for p in doc.pages]
    with_rows = [p for p in pages if "网格1" in p or "网格9" in p]
    assert len(with_rows) >= 3
    for p in with_rows:
        assert "事件编号 类别 网格 处置层级 办理时限 超期小时" in p
    assert all(f"网格{i} " in "\n".join(pages) for i in range(150))  # no row lost at a break
    assert t.overdue_rows(b, "zh")[0][-1] == "30"


# --- kept, listed, jurisdiction ------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(demo_dsn):
    app = create_app(Settings(dsn=demo_dsn))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    out = {u: issue_token(conn, u, f"bulletin-{uuid.uuid4().hex[:6]}")
           for u in ("demo-analyst", "demo-leader-shanghaimiao", "demo-worker")}
    conn.commit()
    conn.close()
    return out


def call(client, tokens, user, method, path, body=None):
    headers = {"Authorization": f"Bearer {tokens[user]}"}
    if body is None:
        return client.open(path, method=method, headers=headers)
    return client.open(path, method=method, data=json.dumps(body), content_type="application/json", headers=headers)


def test_generated_kept_listed_downloaded_and_audited(client, tokens, demo_dsn):
    r = call(client, tokens, "demo-leader-shanghaimiao", "POST", "/api/v1/bulletins",
             {"unit": TOWN, "period": "2026-05", "format": "xlsx", "lang": "en"})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    listed = call(client, tokens, "demo-leader-shanghaimiao", "GET", "/api/v1/bulletins").get_json()["items"]
    assert made["id"] in [b["id"] for b in listed]
    assert all(b["unit_code"].startswith(TOWN) for b in listed)
    f = call(client, tokens, "demo-leader-shanghaimiao", "GET", made["url"])
    assert f.status_code == 200 and f.data[:2] == b"PK"
    with connect(demo_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log WHERE action = 'bulletin' AND object_id = %s "
                    "AND detail->>'id' = %s", (TOWN, made["id"]))
        assert cur.fetchone()[0] == 1
    # the banner's analyst sees the town's bulletin in the list too
    everything = call(client, tokens, "demo-analyst", "GET", "/api/v1/bulletins?limit=200").get_json()["items"]
    assert made["id"] in [b["id"] for b in everything]


def test_jurisdiction_refusals(client, tokens):
    banner = call(client, tokens, "demo-analyst", "POST", "/api/v1/bulletins", {"unit": OTHER_TOWN, "period": "2026-W20"})
    assert banner.status_code == 201
    # a town's leader: not another town, not the banner; not another town's file; not in the list
    for unit in (OTHER_TOWN, REGION):
        r = call(client, tokens, "demo-leader-shanghaimiao", "POST", "/api/v1/bulletins", {"unit": unit, "period": "2026-W20"})
        assert r.status_code == 403, r.get_json()
    assert call(client, tokens, "demo-leader-shanghaimiao", "GET", banner.get_json()["url"]).status_code == 404
    mine = call(client, tokens, "demo-leader-shanghaimiao", "GET", "/api/v1/bulletins?limit=200").get_json()["items"]
    assert banner.get_json()["id"] not in [b["id"] for b in mine]
    # a grid worker reads no bulletins
    assert call(client, tokens, "demo-worker", "GET", "/api/v1/bulletins").status_code == 403
    with pytest.raises(bl.Outside):
        bl.generate("unused", TOWN_LEADER, OTHER_TOWN, "2026-W20")


@pytest.mark.parametrize("body, field", [
    ({"period": "2026-W99"}, "period"), ({"period": "2026-11", "format": "docx"}, "format"),
    ({"period": "2026-11", "lang": "fr"}, "lang"), ({"period": "2026-11", "unit": "15'; drop"}, "unit"),
    ({}, "period"),
])
def test_bad_requests_are_4xx(client, tokens, body, field):
    r = call(client, tokens, "demo-analyst", "POST", "/api/v1/bulletins", body)
    assert r.status_code in (400, 422), r.get_json()
    assert field in json.dumps(r.get_json())


def test_scheduled_run_writes_each_due_bulletin_once(demo_dsn, base):
    today = datetime(2026, 6, 3, tzinfo=timezone.utc).date()
    made = bl.due(demo_dsn, ANALYST, today, base=base)
    units = {m["unit_code"] for m in made}
    assert REGION in units and TOWN in units
    assert {m["period"] for m in made} == {"2026-W22", "2026-05"}
    assert bl.due(demo_dsn, ANALYST, today, base=base) == []  # kept already: nothing again


# --- the analysts' page -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(demo_dsn):
    import dash

    from dashboard import pages_analyst
    from web.auth import install_auth

    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = pages_analyst.layout("en")
    pages_analyst.register(app, demo_dsn)
    install_auth(app.server, demo_dsn, secret_key="test")
    app.server.dash_app = app
    return app.server.test_client()


def _panel(page, token, n, unit, period, fmt="pdf", lang="zh"):
    output = next(k for k in page.application.dash_app.callback_map if "bulletin-list." in k)
    body = {"output": output,
            "outputs": [{"id": "bulletin-list", "property": "children"},
                        {"id": "bulletin-message", "property": "children"},
                        {"id": "bulletin-period", "property": "value"}],
            "inputs": [{"id": "bulletin-generate", "property": "n_clicks", "value": n}],
            "state": [{"id": "bulletin-unit", "property": "value", "value": unit},
                      {"id": "bulletin-period", "property": "value", "value": period},
                      {"id": "bulletin-format", "property": "value", "value": fmt},
                      {"id": "bulletin-lang", "property": "value", "value": lang},
                      {"id": "analyst-lang", "property": "data", "value": "en"}],
            "changedPropIds": ["bulletin-generate.n_clicks"]}
    return page.post("/_dash-update-component", json=body, headers={"Authorization": f"Bearer {token}"})


def test_the_analyst_page_generates_and_lists_bulletins(page, tokens):
    token = tokens["demo-leader-shanghaimiao"]
    first = _panel(page, token, 0, None, None).get_json()["response"]
    assert re.fullmatch(r"\d{4}-W\d{2}", first["bulletin-period"]["value"])  # last week, suggested
    made = _panel(page, token, 1, TOWN, "2026-W23", "xlsx").get_json()["response"]
    assert "Generated: bulletin-150623002-2026-W23-zh.xlsx" in json.dumps(made, ensure_ascii=False)
    assert "/api/v1/bulletins/" in json.dumps(made["bulletin-list"]["children"])
    refused = _panel(page, token, 2, OTHER_TOWN, "2026-W23").get_json()["response"]
    assert "outside your jurisdiction" in refused["bulletin-message"]["children"]
    assert "150623001-2026-W23" not in json.dumps(refused["bulletin-list"]["children"])


def test_a_scheduled_run_waits_for_no_other(demo_dsn, base):
    """While one run holds the schedule's lock (another process), a second writes nothing."""
    holder = connect(demo_dsn)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (bl.SCHEDULE_LOCK,))
        assert bl.due(demo_dsn, ANALYST, date(2026, 7, 8), base=base) == []
    finally:
        holder.close()
    assert {m["period"] for m in bl.due(demo_dsn, ANALYST, date(2026, 7, 8), base=base)} == {"2026-W27", "2026-06"}


def test_small_people_counts_are_suppressed_as_on_the_dashboard(demo_dsn, base):
    with connect(demo_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT left(cell_code, 12), cell_code FROM cell_population WHERE population BETWEEN 1 AND 4 "
                    "ORDER BY cell_code LIMIT 1")
        village, cell = cur.fetchone()
    admin = Actor(user_id=None, username="test-admin", role="admin", unit_code=REGION, region_code=REGION)
    shown = {}
    for who in (ANALYST, admin):
        row = bl.generate(demo_dsn, who, village, "2026-05", "xlsx", "zh", now=DEMO_NOW, base=base)
        sheet = openpyxl.load_workbook(bl.file_path(row, base)).worksheets[1]
        shown[who.role] = {r[1]: r[3] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert shown["analyst"][cell] is None and 1 <= shown["admin"][cell] <= 4
    assert {k: v for k, v in shown["analyst"].items() if v is not None and v >= 5} == \
        {k: v for k, v in shown["admin"].items() if v >= 5}


def test_the_servers_scheduled_run_in_its_own_process(demo_dsn):
    """What the server starts every ONEMAP_BULLETIN_EVERY_S: the ended week's and month's bulletins
    of the banner and each town, once; a second run finds them kept."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    task = json.dumps({"dsn": demo_dsn, "region_code": REGION}).encode()
    first = subprocess.run([sys.executable, "-m", "exports.bulletin.scheduled"], cwd=root, input=task,
                           capture_output=True, timeout=600)
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    written = first.stdout.decode().split()
    assert f"bulletin-{REGION}-" in first.stdout.decode() and f"bulletin-{TOWN}-" in first.stdout.decode()
    again = subprocess.run([sys.executable, "-m", "exports.bulletin.scheduled"], cwd=root, input=task,
                           capture_output=True, timeout=600)
    assert again.returncode == 0 and again.stdout == b"" and written


def test_typesetting_leaves_the_photo_check_strict(demo_dsn, base):
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES when imported; the bulletin module turns
    it off again, so a truncated photo upload is still refused (tests/test_security_uploads.py)."""
    from PIL import ImageFile

    import exports.bulletin.pdf  # noqa: F401 - the import is what is tested

    bl.generate(demo_dsn, ANALYST, TOWN, "2026-W19", "pdf", "zh", now=DEMO_NOW, base=base)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_markup_in_names_is_text_and_nothing_is_fetched(demo_dsn, monkeypatch):
    """Names come from data (an imported grid, a category): planted markup is printed as text, and
    a URL in it is never fetched (not the server's files, not the network)."""
    fetched = []
    real = pdf.fetcher()

    class Spy(type(real)):  # type: ignore[misc]  # WeasyPrint's URLFetcher
        def fetch(self, url, headers=None):
            fetched.append(url)
            return real.fetch(url, headers)

    monkeypatch.setattr(pdf, "fetcher", lambda: Spy())
    b = content.build(demo_dsn, REGION, REGION, parse("2026-05"), DEMO_NOW)
    due = DEMO_NOW - timedelta(hours=30)
    planted = '<img src="file:///etc/hostname"><b>网格X</b>'
    fake = [{"id": uuid.uuid4(), "category": "public_order", "category_name": "<script>alert(1)</script>",
             "category_name_en": None, "cell_code": "cellx", "cell_name": planted, "cell_name_en": None,
             "state": "accepted", "level": 4, "received_at": due, "due_at": due}]
    b = content.Bulletin(**{**b.__dict__, "overdue": fake})
    document = pdf.html(b, "zh")
    assert planted not in document and "<script>alert" not in document
    assert "&lt;img src=&quot;file:///etc/hostname&quot;&gt;" in document
    out = SHOTS / "planted-markup.pdf"
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf.write(b, "zh", out)
    text = "\n".join(pdf_lines(out))
    # printed as text (table cells wrap, so look for the start of each)
    assert '<img src="file:///etc/hostname"><b>' in text and "<script>alert(1)</" in text
    assert fetched == []  # escaped: no element asked for anything
    # and were markup ever to get through, the typesetter asks the refusing fetcher, nobody else
    monkeypatch.setattr(pdf, "html", lambda b, lang: '<p>x</p><img src="file:///etc/hostname">')
    with pytest.raises(ValueError, match="disallowed protocol"):
        real.fetch("file:///etc/hostname")
    pdf.write(b, "zh", out)
    assert fetched == ["file:///etc/hostname"]  # asked, and refused (the PDF has no image)
