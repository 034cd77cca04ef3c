"""Words: gettext catalogues complete in both languages, no Chinese literal left in the dashboard's
code, the county's name from its database row, chart dates in the UI's language, and the
language each user chose remembered by the real app and database."""
from __future__ import annotations

import ast
import json
import re
import string
import uuid
from pathlib import Path

import psycopg2
import pytest

import i18n
from app import Settings, create_app
from dashboard import charts
from data.users import create_user
from web.auth import CSRF_COOKIE, CSRF_HEADER

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PASSWORD = "a long enough password"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_msgid_has_an_english_translation_with_the_same_placeholders():
    for lang in ("zh", "en"):  # a second entry for a key (in one file or two) would silently win
        ids = [i for path in i18n.po_paths(lang)
               for i in re.findall(r'^msgid "(.+)"$', path.read_text(encoding="utf-8"), flags=re.M)]
        assert len(ids) == len(set(ids)), f"{lang}: {sorted({i for i in ids if ids.count(i) > 1})} twice"
    zh, en = i18n.catalogue("zh"), i18n.catalogue("en")
    assert len(zh) > 100
    assert set(zh) == set(en), f"only in zh_CN: {sorted(set(zh) - set(en))}; only in en: {sorted(set(en) - set(zh))}"
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key
        own_name = key in ("lang.zh", "login.switch")  # a language's own name, shown to switch to it
        assert not HAN.search(en[key]) or own_name, f"en {key!r} is Chinese: {en[key]}"


def test_no_chinese_literal_in_the_dashboard_code():
    """Strings the dashboard shows live in the catalogues; docstrings and comments may quote Chinese."""
    found = []
    for path in sorted((ROOT / "dashboard").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and HAN.search(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:40]}")
    assert not found, "move these to i18n/*.po:\n" + "\n".join(found)


def test_no_county_name_outside_the_database():
    hits = [str(p.relative_to(ROOT)) for d in ("dashboard", "web", "api", "i18n")
            for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".po", ".js")
            and re.search("鄂托克前旗|Otog", p.read_text(encoding="utf-8"))]
    assert not hits, hits


def test_language_codes():
    assert [i18n.normalize(x) for x in ("en", "en-GB", "EN_us", "zh", "zh_CN", None, "", "xx")] == \
        ["en", "en", "en", "zh", "zh", "zh", "zh", "zh"]
    assert i18n.words("en")["levels"][4] == "Grid" and i18n.words("zh")["levels"][4] == "网格"
    assert i18n.gettext("en", "circle", facility="School", minutes=10) == "School 10 min"


@pytest.mark.parametrize("lang,month", [("zh", "%-m月"), ("en", "%b")])
def test_trend_axis_dates_in_the_ui_language(lang, month):
    fig = charts.trend([{"day": "2026-11-01", "reported": 3, "solved": 1, "solved_in_grid": 1}], lang)
    axis = fig.layout.xaxis
    assert axis.type == "date" and month in axis.tickformat and "%Y" not in axis.tickformat  # one line, no "12026"
    assert "%Y" in axis.hoverformat


# -- the real app over the demo database --------------------------------------------------------

@pytest.fixture(scope="module")
def app(demo_dsn):
    server = create_app(Settings(dsn=demo_dsn))
    server.testing = True
    return server


@pytest.fixture
def client(app, demo_dsn):
    """A client signed in as a new leader of the whole county."""
    name = f"i18n-{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(demo_dsn)
    try:
        create_user(conn, name, PASSWORD, "leader", "150623")
        conn.commit()
    finally:
        conn.close()
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token,
                                  "next": "/"}).status_code in (302, 303)
    c.username = name
    return c


def _callback(client, output: str, inputs: list[dict]) -> dict:
    """Fire the Dash callback that writes ``output`` as the browser would; its JSON response."""
    deps = client.get("/_dash-dependencies").get_json()
    assert any(d["output"] == output for d in deps), f"no callback writes {output}"
    body = {"output": output, "outputs": dict(zip(("id", "property"), output.rsplit(".", 1), strict=True)),
            "inputs": inputs, "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs], "state": []}
    r = client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: client.get_cookie(CSRF_COOKIE).value})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def _page(client, search: str = "", path: str = "/") -> str:
    out = _callback(client, "page.children", [{"id": "url", "property": "pathname", "value": path},
                                              {"id": "url", "property": "search", "value": search}])
    return json.dumps(out, ensure_ascii=False)


def _title(page: str) -> str:
    return re.search(r'"children": "([^"]*)", "id": "title"', page).group(1)


def test_title_names_the_county_from_its_row(client, demo_dsn):
    assert _title(_page(client)) == "鄂托克前旗 · 一图指挥"
    conn = psycopg2.connect(demo_dsn)
    try:
        with conn.cursor() as cur:  # the same server, another county's name in the row
            cur.execute("UPDATE region SET name = '测试县', name_en = 'Test County' WHERE region_code = '150623'")
        conn.commit()
        zh, en = _page(client), _page(client, "?lang=en")
        assert _title(zh) == "测试县 · 一图指挥" and _title(en) == "Test County · One-Map Command"
        assert "鄂托克前旗" not in _title(zh) and "Otog" not in _title(en)
        wall = _page(client, "", "/wall")
        assert "测试县社会治理一图指挥" in wall and "鄂托克前旗社会治理" not in wall
    finally:
        with conn.cursor() as cur:
            cur.execute("UPDATE region SET name = '鄂托克前旗', name_en = 'Otog Front Banner' "
                        "WHERE region_code = '150623'")
        conn.commit()
        conn.close()


def test_language_choice_is_remembered_for_the_user(client, demo_dsn):
    assert '"data-lang": "zh"' in json.dumps(client.get("/_dash-layout").get_json())  # never chosen: Chinese
    switched = _callback(client, "url.search", [{"id": "lang", "property": "value", "value": "en"}])
    assert switched["response"]["url"]["search"] == "?lang=en"
    conn = psycopg2.connect(demo_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT lang FROM app_user WHERE username = %s", (client.username,))
            assert cur.fetchone()[0] == "en"
    finally:
        conn.close()
    # a reload without ?lang= (a bookmark, another device) opens in the user's language
    assert '"data-lang": "en"' in json.dumps(client.get("/_dash-layout").get_json())
    assert _title(_page(client)).endswith("One-Map Command")
    assert _title(_page(client, "?lang=zh")).endswith("一图指挥")  # the URL still wins when it says
    _callback(client, "url.search", [{"id": "lang", "property": "value", "value": "zh"}])
    assert _title(_page(client)).endswith("一图指挥")


# -- in a real browser ------------------------------------------------------------------------------



def _browser_login(browser, server: str, username: str):
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/", timeout=15_000)
    return page


def _wait_title(page, text: str) -> None:
    page.wait_for_function("t => (document.querySelector('#title') || {}).innerText === t", arg=text,
                           timeout=30_000)


def _trend_ticks(page, year_range: str) -> list[str]:
    """The trend chart's x tick labels once the one-year range is chosen (the demo's history is
    months before today's 30 days)."""
    page.click("#m-range")
    page.get_by_text(year_range, exact=True).last.click()
    page.wait_for_function("() => document.querySelectorAll('#m-trend .xtick text').length > 2", timeout=30_000)
    return page.eval_on_selector_all("#m-trend .xtick text", "ts => ts.map(t => t.textContent)")


def test_in_chromium_months_follow_the_language_and_the_choice_survives_reload(demo_server, demo_dsn):
    from conftest import chromium

    name = f"i18n-b-{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(demo_dsn)
    try:
        create_user(conn, name, PASSWORD, "leader", "150623")
        conn.commit()
    finally:
        conn.close()
    with chromium() as browser:
        page = _browser_login(browser, demo_server, name)
        _wait_title(page, "鄂托克前旗 · 一图指挥")
        zh_ticks = _trend_ticks(page, "近一年")
        assert all(re.fullmatch(r"\d{1,2}月\d{1,2}日", t) for t in zh_ticks), zh_ticks
        page.get_by_text("English", exact=True).click()
        _wait_title(page, "Otog Front Banner · One-Map Command")
        en_ticks = _trend_ticks(page, "1 year")
        assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", t) for t in en_ticks), en_ticks
        page.goto(demo_server + "/")  # a reload without ?lang=: still English
        _wait_title(page, "Otog Front Banner · One-Map Command")
        other = _browser_login(browser, demo_server, name)  # another device: English too
        _wait_title(other, "Otog Front Banner · One-Map Command")
        assert "lang=" not in other.url
