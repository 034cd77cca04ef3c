"""Outages heal: `onemap serve` over a PostgreSQL cluster of its own that the test stops and
starts. While it is down every request gets 503 with Retry-After (JSON for APIs, a page for
browsers) and the log says so once per process, without tracebacks; when it is back the API
answers again by itself, an open live page carries on, a page that was away replays what it
missed by event id, and the listener catches up on what was committed while it was cut off."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import pytest

from data.users import issue_token
from db.core import connect

from served import Stream, get, onemap_serve, post_json, throwaway_cluster


@pytest.fixture(scope="module")
def own_cluster():
    """A throwaway cluster of this test's own, with the quiet demo county loaded."""
    with throwaway_cluster() as found:
        yield found


def _token(dsn, username, read_only=False):
    conn = connect(dsn)
    try:
        token = issue_token(conn, username, f"outage-{uuid.uuid4().hex[:6]}", read_only=read_only)
        conn.commit()
        return token
    finally:
        conn.close()


def _report(base, token):
    body = {"id": str(uuid.uuid4()), "category": "public_order", "description": "outage test",
            "lon": 107.4751, "lat": 38.1798, "observed_at": datetime.now(timezone.utc).isoformat()}
    status, answer = post_json(base + "/api/v1/incidents", body, token)
    assert status in (200, 201), answer
    return answer["id"]


def test_outage_answers_503_then_heals_and_pages_replay(own_cluster, tmp_path):
    log = tmp_path / "server.log"
    kiosk = _token(own_cluster.dsn, "demo-leader", read_only=True)
    dispatcher = _token(own_cluster.dsn, "demo-dispatcher")
    with onemap_serve(own_cluster.dsn, log, workers=2, sse_heartbeat_s=1) as base:
        assert get(base + "/api/v1/me", token=kiosk)[0] == 200
        stays = Stream(base, kiosk)  # a page that stays open through the outage
        stays.wait_for(lambda e: e["data"].get("hello"))
        away = Stream(base, kiosk)  # a page that loses its stream during the outage
        away_last = away.wait_for(lambda e: e["data"].get("hello"))["id"]

        own_cluster.stop()
        away.close()
        for _ in range(10):  # requests keep coming while the database is away
            status, headers, body = get(base + "/api/v1/me", token=kiosk)
            assert status == 503, body[:300]
            assert int(headers["Retry-After"]) > 0
            assert json.loads(body)["error"]["code"] == "database_unavailable"
        for path in ("/open311/v2/services.json", "/ogc/collections", "/layers/cells.geojson"):
            status, headers, body = get(base + path, token=kiosk)
            assert status == 503 and headers["Retry-After"], path
            assert json.loads(body)["error"]["code"] == "database_unavailable", path
        status, headers, body = get(base + "/", token=kiosk, headers={"Accept": "text/html"})  # a browser
        assert status == 503 and headers["Retry-After"] and headers["Content-Type"].startswith("text/html")
        assert "The database is unreachable" in body.decode()
        refused = Stream(base, kiosk)  # a page opening now is refused too (it retries by itself)
        assert refused.status == 503 and refused.headers.get("retry-after")
        refused.close()

        own_cluster.start()
        deadline = time.monotonic() + 60
        healthy = 0  # heals with no one's help, in every process: each notices on its own probe
        while healthy < 10:  # so ten answers in a row (requests spread over both processes)
            healthy = healthy + 1 if get(base + "/api/v1/me", token=kiosk)[0] == 200 else 0
            assert time.monotonic() < deadline, "the API did not come back after the database did"
            time.sleep(0.1)

        missed = _report(base, dispatcher)
        stays.wait_for(lambda e: e["data"].get("incident_id") == missed)  # the open page carries on
        back = Stream(base, kiosk, last_event_id=away_last)  # the page that was away reconnects
        assert back.status == 200
        replayed = back.wait_for(lambda e: e["data"].get("incident_id") == missed)
        assert replayed["id"] > away_last

        # the listener itself cut off while an event commits: it catches up when it reconnects
        conn = connect(own_cluster.dsn)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'onemap-listen' AND datname = current_database()")
            assert cur.fetchone()[0] >= 1
            cur.execute("INSERT INTO incident_event (incident_id, region_code, at, action, actor, note) "
                        "SELECT id, region_code, now(), 'note', 'test', 'committed while the feed was cut' "
                        "FROM incident WHERE id = %s RETURNING id", (missed,))
            cut_id = cur.fetchone()[0]
        conn.close()
        for s in (stays, back):
            s.wait_for(lambda e: e["id"] == cut_id)
        stays.close()
        back.close()

    text = log.read_text()
    assert "Traceback" not in text
    down = [line for line in text.splitlines() if "unreachable (" in line]
    assert 1 <= len(down) <= 2, down  # one line per worker process and episode, not one per request
    assert len([line for line in text.splitlines() if "reachable again" in line]) <= 2


def test_what_counts_as_the_database_being_away():
    import psycopg2
    import psycopg2.errors as pe

    from db.core import DatabaseError
    from db.outage import is_overload, is_unavailable

    for away in (psycopg2.OperationalError("server closed the connection unexpectedly"),
                 psycopg2.InterfaceError("connection already closed"), pe.AdminShutdown(),
                 pe.CannotConnectNow(), DatabaseError("cannot connect to …")):
        assert is_unavailable(away) and not is_overload(away), away
    for fault in (pe.QueryCanceled(), pe.DeadlockDetected(), pe.SerializationFailure(),
                  pe.UniqueViolation(), ValueError("bug")):
        assert not is_unavailable(fault), fault  # these stay 4xx/5xx of their own, never 503
    busy = DatabaseError("all database connections stayed busy for 30 s; try again")
    assert is_unavailable(busy) and is_overload(busy)  # 503 for the request, but no outage episode
