"""Property-based fuzzing against the real served app: no input ever gets a 5xx.

- schemathesis generates requests from the generated OpenAPI (/api/v1/openapi.json): every
  operation under /api, valid and invalid parameters and bodies, with an admin's token;
- hypothesis builds hostile query strings for Open311 and OGC (times with offsets PostgreSQL
  refuses, years 1 and 9999, huge numbers, NUL bytes, lone surrogates, unknown keys).

The app is served by waitress on its own database (the demo county without incident history), so
the reports and exports the fuzzer makes touch no other test's data. Examples are few per
operation (``EXAMPLES``) so the file runs in about a minute on two cores.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conftest import DEMO_NOW, _drop, _fresh_database

EXAMPLES = int(os.environ.get("ONEMAP_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_dsn(server_dsn):
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "fuzz")
    load_demo(dsn, seed=1, incidents=0, now=DEMO_NOW)
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture(scope="module")
def fuzz_server(fuzz_dsn):
    """The whole app on its own port; rate limits raised so the fuzzer reaches the handlers."""
    import socket

    from waitress.server import create_server

    from app import Settings, create_app

    os.environ["ONEMAP_API_RATE"] = "1000000"
    try:
        app = create_app(Settings(dsn=fuzz_dsn))
    finally:
        os.environ.pop("ONEMAP_API_RATE", None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    srv.close()


@pytest.fixture(scope="module")
def fuzz_token(fuzz_dsn):
    from data.users import issue_token
    from db.core import connect

    conn = connect(fuzz_dsn)
    tokens = {u: issue_token(conn, u, f"fuzz-{uuid.uuid4().hex[:6]}") for u in ("demo-admin", "demo-worker")}
    conn.commit()
    conn.close()
    return tokens


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    doc = requests.get(fuzz_server + "/api/v1/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(doc)


def test_no_server_error_from_any_api_request(api_schema, fuzz_server, fuzz_token):
    """Whatever schemathesis sends to an /api operation (valid and invalid data), no 5xx.

    Driven through schemathesis' strategies rather than its pytest plugin, which does not run
    under pytest 9 (``'Function' object has no attribute '_nodeid'``)."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        # Service-reach answers are computed over the caller's jurisdiction: as a grid worker (one
        # cell) they take milliseconds, as the admin (the county) seconds each; the parameters are
        # parsed and bounded the same way for both.
        who = "demo-worker" if op.path.startswith(("/api/v1/coverage", "/api/v1/isochrones")) else "demo-admin"
        started = time.monotonic()
        _fuzz_operation(op, fuzz_server, {"Authorization": f"Bearer {fuzz_token[who]}"}, failures)
        print(f"fuzz {op.method.upper()} {op.path}: {time.monotonic() - started:.1f} s")  # where the minute goes
    assert not failures, "\n".join(failures[:20])


def _fuzz_operation(op, base_url: str, headers: dict, failures: list[str]) -> None:
    """Call one operation with ``EXAMPLES`` generated cases; record every 5xx in ``failures``."""
    strategies = [op.as_strategy(GenerationMode.POSITIVE)]
    try:
        strategies.append(op.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001, S110 — an operation with nothing to negate
        pass

    @given(case=st.one_of(strategies))
    @FUZZ
    def run(case):
        response = case.call(base_url=base_url, headers=headers, timeout=120)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.path} {case.path_parameters} query={case.query} "
                            f"body={case.body!r:.200} → {response.status_code} {response.text[:200]}")

    run()


# --- hostile values for Open311 and OGC ------------------------------------------------------------

def _offsets():
    return st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)).map(
        lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}")


TIMES = st.one_of(
    st.builds(lambda y, o: f"{y:04d}-06-01T08:00:00{o}", st.sampled_from([1, 1899, 1900, 2026, 2200, 2201, 9999]),
              _offsets()),
    st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2026-06-01", "2026-06-01T08:00:00",
                     "2026-06-01T08:00:00Z", "..", "", "yesterday", "2026-06-01T08:00:00 08:00"]),
)
NASTY = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "1e23", "-1", "99999999999999999999999", "nan",
                     "inf", "1,2,3,4", "108,38,107,39", "%00", "<script>", "' OR 1=1 --", "\u202e", " " * 5]),
    st.integers(-10 ** 30, 10 ** 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
VALUE = st.one_of(TIMES, NASTY)


def _query(params: dict) -> str:
    """A query string that may hold lone surrogates (percent-encoded as raw UTF-8 bytes)."""
    return "&".join(quote(k.encode("utf-8", "surrogatepass"), safe="") + "="
                    + quote(v.encode("utf-8", "surrogatepass"), safe="") for k, v in params.items())


def _no_5xx(base: str, path: str, params: dict, token: str) -> None:
    r = requests.get(f"{base}{path}?{_query(params)}", headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert r.status_code < 500, (path, params, r.status_code, r.text[:300])
    assert r.headers.get("Content-Type", "").split(";")[0] in (
        "application/json", "application/geo+json", "text/xml", "application/xml"), (path, params, r.headers)


OPEN311_KEYS = ["start_date", "end_date", "status", "service_code", "service_request_id", "page", "page_size",
                "jurisdiction_id", "lat", "long", "radius", "zzz"]
OGC_KEYS = ["datetime", "bbox", "limit", "offset", "f", "crs", "bbox-crs", "state", "category", "zzz"]


@given(data=st.dictionaries(st.sampled_from(OPEN311_KEYS), VALUE, min_size=1, max_size=4),
       fmt=st.sampled_from(["json", "xml"]))
@FUZZ
def test_open311_requests_never_5xx(fuzz_server, fuzz_token, data, fmt):
    token = fuzz_token["demo-admin"]
    _no_5xx(fuzz_server, f"/open311/v2/requests.{fmt}", {**data, "api_key": token}, token)


@given(data=st.dictionaries(st.sampled_from(OGC_KEYS), VALUE, min_size=1, max_size=4),
       collection=st.sampled_from(["incidents", "cells", "workers", "roads", "nope"]))
@FUZZ
def test_ogc_items_never_5xx(fuzz_server, fuzz_token, data, collection):
    _no_5xx(fuzz_server, f"/ogc/collections/{collection}/items", data, fuzz_token["demo-admin"])


@given(fid=NASTY, collection=st.sampled_from(["incidents", "cells", "facilities"]))
@FUZZ
def test_ogc_item_ids_never_5xx(fuzz_server, fuzz_token, fid, collection):
    path = f"/ogc/collections/{collection}/items/" + quote(fid.encode("utf-8", "surrogatepass"), safe="")
    r = requests.get(fuzz_server + path, headers={"Authorization": f"Bearer {fuzz_token['demo-admin']}"}, timeout=60)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])


# --- the console table's rows (GET /console/rows, fetched by the grid in the browser) --------------

CONSOLE_FILTERS = ["number", "text", "categories", "states", "departments", "levels", "overdue", "since", "until",
                   "queue", "unit", "zzz"]
JSON_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10 ** 20, 10 ** 20), st.floats(),
                                    NASTY, TIMES),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                          max_leaves=6)


@given(filters=st.dictionaries(st.sampled_from(CONSOLE_FILTERS), JSON_VALUE, max_size=5),
       extra=st.dictionaries(st.sampled_from(["start", "end", "sort", "dir", "lang", "q"]), NASTY, max_size=3))
@FUZZ
def test_console_rows_never_5xx(fuzz_server, fuzz_token, filters, extra):
    """Whatever filters and paging the console's table is asked for: an answer or a clear 400."""
    import json

    params = {"q": json.dumps(filters), **extra}
    _no_5xx(fuzz_server, "/console/rows", params, fuzz_token["demo-admin"])
