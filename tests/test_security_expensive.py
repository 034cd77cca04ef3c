"""Isochrones: the published reach from the cache for everyone, computation only for the roles
that plan coverage, never for read-only callers, within a budget."""
from __future__ import annotations

import uuid

import pytest

from api.routing import ISO_BUILDS_PER_MINUTE, PUBLISHED_MINUTES
from data.users import issue_token
from db.core import connect
from tests.conftest import scalar
from tests.security_http import Client, bearer

KIND = "police_station"  # built by the demo loader (10 and 30 minutes)


@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    tag = uuid.uuid4().hex[:6]
    out = {u: issue_token(conn, u, f"iso-{tag}") for u in ("demo-leader", "demo-worker", "demo-dispatcher",
                                                           "demo-analyst")}
    out["kiosk"] = issue_token(conn, "demo-analyst", f"iso-kiosk-{tag}", read_only=True)
    conn.commit()
    conn.close()
    return out


def _iso(server, token, minutes, kind=KIND):
    return Client(server).get(f"/api/v1/isochrones?kind={kind}&minutes={minutes}", headers=bearer(token))


def _cached(dsn, minutes, kind=KIND):
    return scalar(dsn, "SELECT count(*) FROM isochrone WHERE kind = %s AND minutes = %s", (kind, minutes))


def test_published_values_for_everyone_from_the_cache(demo_server, demo_dsn, tokens):
    for user in ("demo-leader", "demo-worker", "kiosk"):
        for minutes in PUBLISHED_MINUTES:
            reply = _iso(demo_server, tokens[user], minutes)
            assert reply.status == 200, (user, reply.text)
            assert reply.json()["properties"]["minutes"] == minutes


def test_other_values_only_for_planning_roles(demo_server, demo_dsn, tokens):
    for user in ("demo-leader", "demo-worker", "kiosk"):  # kiosk: an analyst's read-only token
        reply = _iso(demo_server, tokens[user], 17, kind="clinic")
        assert reply.status == 403 and reply.json()["error"]["code"] == "minutes_not_published", user
    assert _cached(demo_dsn, 17, "clinic") == 0  # nothing was computed for them
    assert _iso(demo_server, tokens["demo-analyst"], 17, kind="clinic").status == 200
    assert _cached(demo_dsn, 17, "clinic") == 1


def test_read_only_and_ordinary_callers_never_rebuild_a_stale_cache(demo_server, demo_dsn, tokens):
    conn = connect(demo_dsn)
    with conn.cursor() as cur:  # make the cached 10-minute reach look stale
        cur.execute("UPDATE isochrone SET source_hash = 'stale' WHERE kind = %s AND minutes = 10", (KIND,))
    conn.commit()
    conn.close()
    for user in ("demo-leader", "kiosk"):
        assert _iso(demo_server, tokens[user], 10).status == 200
        assert scalar(demo_dsn, "SELECT source_hash FROM isochrone WHERE kind = %s AND minutes = 10", (KIND,)) == "stale"
    assert _iso(demo_server, tokens["demo-dispatcher"], 10).status == 200  # a planning role rebuilds it
    assert scalar(demo_dsn, "SELECT source_hash FROM isochrone WHERE kind = %s AND minutes = 10", (KIND,)) != "stale"


def test_unpublished_values_have_a_budget(demo_server, tokens):
    token = tokens["demo-dispatcher"]
    answers = [_iso(demo_server, token, 20, kind="school").status for _ in range(ISO_BUILDS_PER_MINUTE + 1)]
    assert answers == [200] * ISO_BUILDS_PER_MINUTE + [429]
    assert _iso(demo_server, token, 10, kind="school").status == 200  # the published ones stay available
