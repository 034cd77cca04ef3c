"""Security headers on every response of the served app: pages, API, files, errors, logins."""
from __future__ import annotations

import base64
import hashlib
import re
import uuid

import pytest

from data.users import create_user, issue_token
from db.core import connect
from tests.security_http import Client, bearer

PASSWORD = "a long enough password"
STANDARD = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


@pytest.fixture(scope="module")
def leader(demo_dsn):
    name = f"hdr-{uuid.uuid4().hex[:8]}"
    conn = connect(demo_dsn)
    create_user(conn, name, PASSWORD, "leader", "150623")
    token = issue_token(conn, name, "headers")
    conn.commit()
    conn.close()
    return name, token


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


PATHS = ["/", "/login", "/wall", "/healthz", "/assets/onemap.js", "/api/v1/me", "/api/v1/nosuch",
         "/ogc", "/open311/v2/discovery.json", "/layers/cells.geojson", "/no/such/page", "/logout",
         "/account/password", "/_dash-layout", "/events/nosuch"]


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_response_carries_the_headers(demo_server, leader, signed_in):
    client = Client(demo_server)
    if signed_in:
        assert client.login(leader[0], PASSWORD).status == 303
    for path in PATHS:
        reply = client.get(path, headers={"Accept": "text/html"})
        for name, value in STANDARD.items():
            assert reply.headers.get(name) == value, (path, reply.status, name)
        csp = _directives(reply.headers["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], path
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"], path
        assert "*" not in " ".join(csp["script-src"] + csp["connect-src"]), path


def test_bearer_and_error_responses_too(demo_server, leader):
    client = Client(demo_server)
    for headers in (bearer(leader[1]), bearer("not-a-token"), {"Authorization": "Basic !!!"}):
        reply = client.get("/api/v1/me", headers=headers)
        assert reply.headers["X-Content-Type-Options"] == "nosniff", reply.status
        assert "Content-Security-Policy" in reply.headers


def test_the_csp_allows_exactly_the_inline_scripts_dash_writes(demo_server, leader):
    """Every inline <script> of the page (not JSON data) has its hash in script-src, and no more."""
    client = Client(demo_server)
    client.login(leader[0], PASSWORD)
    page = client.get("/")
    allowed = set(_directives(page.headers["Content-Security-Policy"])["script-src"])
    markup = re.sub(r"<!--.*?-->", "", page.text, flags=re.S)  # e.g. Dash's <!--[if IE]> notice
    inline = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", markup, re.S)
    executed = [body for attrs, body in inline
                if "src=" not in attrs and "application/json" not in attrs and body.strip()]
    assert executed, "the Dash index page should bootstrap its renderer inline"
    for body in executed:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert len([s for s in allowed if s.startswith("'sha")]) == len(executed)
