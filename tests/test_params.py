"""One parameter layer: the value rules (domain/values.py), the pydantic types (web/params.py) and
the class-level defences every route gets (NUL bytes, lone surrogates, deep JSON, bounded numbers
and times, JSON 404 for unknown API paths, Dash callbacks fed junk), against the real app."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app import Settings, create_app
from data.users import issue_token
from db.core import connect
from domain import values
from web import params

# --- the rules, as pure functions ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2026-06-01", datetime(2026, 5, 31, 16, 0, tzinfo=UTC)),          # a local calendar day
    ("2026-06-01T08:00:00+08:00", datetime(2026, 6, 1, 0, 0, tzinfo=UTC)),
    ("2026-06-01T08:00:00 08:00", datetime(2026, 6, 1, 0, 0, tzinfo=UTC)),  # '+' sent as a space
    ("2026-06-01T00:00:00Z", datetime(2026, 6, 1, 0, 0, tzinfo=UTC)),
    ("2026-06-01T00:00:00-15:59", datetime(2026, 6, 1, 15, 59, tzinfo=UTC)),
])
def test_times_that_parse(text, expected):
    assert values.parse_time(text, "Asia/Shanghai") == expected


@pytest.mark.parametrize("text, says", [
    ("2026-06-01T08:00:00", "time zone"),             # whose clock? refused, not guessed
    ("2026-06-01T08:00:00+16:00", "±15:59"),          # Python accepts, PostgreSQL refuses
    ("2026-06-01T08:00:00-23:59", "±15:59"),
    ("0001-01-01T00:00:00Z", "1900"),                 # would overflow when shifted to UTC
    ("9999-12-31", "2200"),
    ("1899-12-31", "1900"),
    ("yesterday", "ISO 8601"),
    ("2026-02-30", "calendar date"),
    ("2026-06-01\x00", "U+0000"),
])
def test_times_refused_with_a_reason(text, says):
    with pytest.raises(ValueError, match=says.replace("+", r"\+")):
        values.parse_time(text, "Asia/Shanghai")


def test_a_plain_date_is_a_day_in_the_given_zone():
    start = values.parse_time("2026-06-01", "Asia/Shanghai")
    end = values.parse_time("2026-06-01", "Asia/Shanghai", end=True)
    assert end - start == timedelta(days=1) - timedelta(microseconds=1)
    assert values.parse_time("2026-06-01", "UTC") - start == timedelta(hours=8)


@pytest.mark.parametrize("text", ["1e23", "1.0", "", " ", "0x10", "1_000", "99999999999999999999999", "٣"])
def test_integers_are_decimal_digits_only(text):
    with pytest.raises(ValueError, match="integer from 0 to 100"):
        values.bounded_int(text, 0, 100)


@pytest.mark.parametrize("text", ["1,2,3", "1,2,3,4,5", "3,2,1,4", "1,4,3,2", "nan,0,1,1", "-181,0,1,1",
                                  "0,-91,1,1", "a,b,c,d", "inf,0,1,1"])
def test_bad_boxes(text):
    with pytest.raises(ValueError):
        values.bbox(text)


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\x1b[31m", "y" * 1001])
def test_text_refused(text):
    with pytest.raises(ValueError):
        values.clean_text(text)


@pytest.mark.parametrize("value", [67995, 1.5, {"a": "b"}, [1, 2], True])
def test_lists_of_the_wrong_type_are_refused(value):
    """Found by the fuzzer: ``categories: 67995`` in an export body was a 500."""
    with pytest.raises(ValueError, match="list of strings"):
        values.comma_list(value)


def test_text_allows_newlines_and_chinese():
    assert values.clean_text("路灯\n损坏\t") == "路灯\n损坏\t"


def test_json_depth_and_strings_are_bounded():
    with pytest.raises(ValueError, match="deeper"):
        params.loads("[" * 50_000 + "]" * 50_000)
    with pytest.raises(ValueError, match="deeper"):
        params.loads("[" * 33 + "]" * 33)
    assert params.loads("[" * 32 + "]" * 32)
    with pytest.raises(ValueError, match="surrogate"):
        params.loads('{"a": "\\ud800"}')
    with pytest.raises(ValueError, match="NUL"):
        params.loads('{"a\\u0000": 1}')
    with pytest.raises(ValueError, match="NaN"):
        params.loads('{"a": NaN}')


def test_query_models_name_every_bad_parameter():
    from api.models import IncidentListQuery

    with pytest.raises(params.BadParameters) as bad:
        params.parse(IncidentListQuery, {"limit": "0", "since": "2026-06-01T00:00+20:00", "bbox": "1,2",
                                         "state": "lost", "offset": "1e23"})
    assert set(bad.value.fields) == {"limit", "since", "bbox", "state", "offset"}
    q = params.parse(IncidentListQuery, {"limit": "5", "state": "new,closed", "overdue": "true"})
    assert (q.limit, q.state, q.overdue, q.offset) == (5, ("new", "closed"), True, 0)


# --- the defences, over HTTP against the real app ----------------------------------------------

@pytest.fixture(scope="module")
def app(quiet_dsn):
    app = create_app(Settings(dsn=quiet_dsn))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def token(quiet_dsn):
    conn = connect(quiet_dsn)
    out = {u: issue_token(conn, u, f"params-{uuid.uuid4().hex[:6]}") for u in ("demo-admin", "demo-worker")}
    conn.commit()
    conn.close()
    return out


def auth(token, user="demo-admin"):
    return {"Authorization": f"Bearer {token[user]}"}


@pytest.mark.parametrize("path", [
    "/api/v1/incidents?since=2026-06-01T00:00:00%2B16:00",
    "/api/v1/incidents?since=2026-06-01T00:00:00-23:59",
    "/api/v1/incidents?since=0001-01-01T00:00:00Z",
    "/api/v1/incidents?until=9999-12-31",
    "/api/v1/incidents?limit=1e23",
    "/api/v1/incidents?offset=99999999999999999999999",
    "/api/v1/incidents?unit=%00",
    "/api/v1/incidents?category=%ED%A0%80",           # a lone surrogate, UTF-8-encoded (invalid UTF-8)
    "/api/v1/incidents?bbox=nan,nan,nan,nan",
    "/api/v1/patrol-coverage?since=2026-06-01T00:00",
    "/api/v1/isochrones?minutes=1e23",
    "/api/v1/routes?from=%00&to=1,2",
    "/api/exports/%00",
    "/ogc/collections/incidents/items?offset=1e23",
    "/ogc/collections/incidents/items?limit=99999999999999999999",
    "/ogc/collections/incidents/items?datetime=2026-06-01T00:00:00%2B20:00/..",
    "/ogc/collections/incidents/items?datetime=0001-01-01T00:00:00Z",
    "/ogc/collections/incidents/items/%00",
    "/ogc/collections/%ED%A0%80/items",
    "/open311/v2/requests.json?start_date=9999-12-31",
    "/open311/v2/requests.json?start_date=2026-06-01T00:00:00%2B23:00",
    "/open311/v2/requests.json?service_request_id=%00",
])
def test_hostile_query_gets_a_json_4xx(client, token, path):
    r = client.get(path, headers=auth(token))
    assert 400 <= r.status_code < 500, (path, r.status_code, r.data[:300])
    assert r.is_json, (path, r.data[:200])


def test_deep_json_is_a_400_everywhere(client, token):
    deep = "[" * 50_000 + "]" * 50_000
    for path in ("/api/v1/incidents", "/api/v1/positions", "/api/exports/plan", "/_dash-update-component"):
        r = client.post(path, data=deep, content_type="application/json", headers=auth(token))
        assert r.status_code == 400, (path, r.status_code, r.data[:200])


def test_nul_and_surrogates_in_json_bodies_are_a_400(client, token):
    body = ('{"id": "' + str(uuid.uuid4()) + '", "category": "public_order", "description": "a\\u0000b", '
            '"lon": 107.47, "lat": 38.18, "observed_at": "2026-06-01T00:00:00Z"}')
    r = client.post("/api/v1/incidents", data=body, content_type="application/json", headers=auth(token))
    assert r.status_code == 400 and "NUL" in r.get_json()["error"]["message"]
    r = client.post("/api/exports/plan", data='{"layers": ["\\udfff"]}', content_type="application/json",
                    headers=auth(token))
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/nope", "/api/v2/incidents", "/ogc/nope/deeper",
                                  "/open311/v9/x", "/api"])
def test_unknown_api_paths_are_json_404(client, token, path):
    r = client.get(path, headers=auth(token))
    assert r.status_code == 404 and r.is_json, (path, r.status_code, r.data[:100])


def test_next_link_is_urlencoded_and_uses_the_public_url(app, client, token):
    app.config["ONEMAP_PUBLIC_URL"] = "https://onemap.example.gov.cn/"
    try:
        since = "2020-01-01T00:00:00+08:00"
        r = client.get("/api/v1/incidents", query_string={"limit": 1, "since": since},
                       headers={**auth(token), "Host": "evil.example"})
        # the quiet county may have no incidents; report one so a page has a next
        if "next" not in r.get_json():
            for _ in range(2):
                client.post("/api/v1/incidents", headers=auth(token), json={
                    "id": str(uuid.uuid4()), "category": "public_order", "lon": 107.4751, "lat": 38.1798,
                    "observed_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()})
            r = client.get("/api/v1/incidents", query_string={"limit": 1, "since": since},
                           headers={**auth(token), "Host": "evil.example"})
        link = r.get_json()["next"]
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "onemap.example.gov.cn", "/api/v1/incidents")
        assert parse_qs(parts.query)["since"] == [since]
        follow = client.get(parts.path + "?" + parts.query, headers=auth(token))
        assert follow.status_code == 200 and follow.get_json()["offset"] == 1
    finally:
        app.config["ONEMAP_PUBLIC_URL"] = None


def test_ogc_and_open311_links_ignore_the_host_header(app, client, token):
    app.config["ONEMAP_PUBLIC_URL"] = "https://onemap.example.gov.cn"
    try:
        evil = {**auth(token), "Host": "evil.example"}
        hrefs = [link["href"] for link in client.get("/ogc/", headers=evil).get_json()["links"]]
        items = client.get("/ogc/collections/cells/items?limit=1&datetime=..", headers=evil)
        hrefs += [link["href"] for link in client.get("/ogc/collections/cells/items?limit=1", headers=evil)
                  .get_json()["links"]]
        discovery = client.get("/open311/v2/discovery.json", headers=evil).get_json()
        hrefs += [e["url"] for e in discovery["endpoints"]]
        assert hrefs and all(h.startswith("https://onemap.example.gov.cn/") for h in hrefs), hrefs
        assert items.status_code == 400  # cells have no time to filter on: named, not a 500
    finally:
        app.config["ONEMAP_PUBLIC_URL"] = None


# Junk a hostile page could post to Dash's callback dispatch: every one a 4xx, none a 500.
DASH_JUNK = [
    b"", b"null", b"[]", b'"x"', b"{}", b'{"output": 1}', b'{"output": "x.children"}',
    b'{"output": "nope.children", "inputs": [], "state": []}',
    b'{"output": "x.children", "inputs": {"a": 1}}',
    b'{"output": "x.children", "inputs": [1, 2, 3], "state": "s"}',
    b'{"output": "..a..", "outputs": [{"id": 1}], "inputs": [{"id": {}, "property": []}]}',
]


def _dash_client(app):
    """A signed-in browser-like client and the CSRF header Dash's renderer would send."""
    import re

    from web.auth import CSRF_COOKIE, CSRF_HEADER

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": "demo-admin", "password": "onemap-admin", "csrf_token": token})
    assert r.status_code in (302, 303), r.status_code
    return client, {CSRF_HEADER: client.get_cookie(CSRF_COOKIE).value}


def test_dash_dispatch_refuses_junk_with_4xx(app, quiet_dsn):
    client, csrf = _dash_client(app)
    for junk in DASH_JUNK:
        r = client.post("/_dash-update-component", data=junk, content_type="application/json", headers=csrf)
        assert 400 <= r.status_code < 500, (junk, r.status_code, r.data[:300])
        assert b"Traceback" not in r.data


def test_dash_callbacks_fed_wrong_types_are_4xx(app):
    """Every registered callback, each input replaced by junk values of the wrong type."""
    client, csrf = _dash_client(app)
    deps = client.get("/_dash-dependencies").get_json()
    assert deps, "no callbacks registered"
    seen = 0
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        for junk in ({"x": [1]}, "\u202e<script>", -1e308, [[[]]], True):
            body = {"output": dep["output"], "outputs": _outputs(dep["output"]),
                    "inputs": [{**i, "value": junk} for i in dep["inputs"]],
                    "state": [{**s, "value": junk} for s in dep.get("state", [])],
                    "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"][:1]]}
            r = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json",
                            headers=csrf)
            assert r.status_code < 500, (dep["output"], junk, r.status_code, r.data[:300])
            seen += 1
    assert seen > 20


def _outputs(output: str):
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    outs = []
    for p in parts:
        ident, _, prop = p.rpartition(".")
        outs.append({"id": ident, "property": prop})
    return outs if len(outs) > 1 else outs[0]


# --- implausible field input is refused by name ----------------------------------------------------

def _report(**kw):
    now = datetime.now(UTC)
    return {"id": str(uuid.uuid4()), "category": "public_order", "lon": 107.4751, "lat": 38.1798,
            "observed_at": (now - timedelta(minutes=2)).isoformat(), **kw}


@pytest.mark.parametrize("field, value, says", [
    ("observed_at", "0001-01-01T00:00:00Z", "1900"),
    ("observed_at", "2026-06-01T00:00:00+23:00", "15:59"),
    ("observed_at", "2200-01-01T00:00:00Z", "future"),
    ("observed_at", "1990-01-01T00:00:00Z", "days ago"),
    ("observed_at", "2026-06-01", "zone"),
    ("id", "00000000-0000-0000-0000-000000000000", "nil"),
])
def test_implausible_reports_are_refused_by_field(client, token, field, value, says):
    r = client.post("/api/v1/incidents", json=_report(**{field: value}), headers=auth(token))
    assert r.status_code == 422, r.get_json()
    assert says in r.get_json()["error"]["fields"][field]


def test_gps_fixes_outside_the_region_are_refused(client, token):
    now = datetime.now(UTC).isoformat()
    inside = {"at": now, "lon": 107.4751, "lat": 38.1798}
    beijing = {"at": now, "lon": 116.397, "lat": 39.909}
    r = client.post("/api/v1/positions", json={"positions": [inside, beijing]}, headers=auth(token, "demo-worker"))
    assert r.status_code == 422, r.get_json()
    fields = r.get_json()["error"]["fields"]
    assert list(fields) == ["positions[1].lon"] and "km outside" in fields["positions[1].lon"]
    old = {**inside, "at": "1970-01-01T00:00:00Z"}
    r = client.post("/api/v1/positions", json={"positions": [old]}, headers=auth(token, "demo-worker"))
    assert r.status_code == 422 and "positions[0].at" in r.get_json()["error"]["fields"]
    ok = client.post("/api/v1/positions", json={"positions": [inside]}, headers=auth(token, "demo-worker"))
    assert ok.status_code == 201, ok.get_json()
