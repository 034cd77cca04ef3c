"""Exports as bounded jobs: the queue's limits and positions, restarts, time to live, file modes,
and read-only callers, against the real database, the real server and real worker processes."""
from __future__ import annotations

import json
import stat
import time

import dash
import pytest

from data.users import Actor, issue_token
from db.core import connect
from exports import jobs
from exports import service as ex

from conftest import _drop, _fresh_database, scalar

FILTERS = {"since": "2026-06-01T00:00:00+00:00"}


def actor(name: str) -> Actor:
    return Actor(user_id=None, username=name, role="analyst", unit_code="150623", region_code="150623")


@pytest.fixture(scope="module")
def queue_dsn(server_dsn):
    """A database of its own, with no dispatcher running for it: claims happen only when a test calls."""
    admin, name, dsn = _fresh_database(server_dsn, "queue")
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO region (region_code, name) VALUES ('150623', '测试旗')")
    conn.close()
    yield dsn
    _drop(admin, name)


def _wipe(dsn):
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM export_job")
    conn.close()


def _queue(dsn, who, n):
    out = []
    for _ in range(n):
        out.append(jobs.create(dsn, actor(who), ("incidents",), "gpkg", "EPSG:4490", FILTERS, 1))
        time.sleep(0.002)  # distinct created_at: the queue is first come, first served
    return out


def test_claims_keep_the_per_user_and_global_limits_and_queued_jobs_know_their_place(queue_dsn, monkeypatch):
    monkeypatch.setenv("ONEMAP_EXPORT_JOBS_PER_USER", "2")
    monkeypatch.setenv("ONEMAP_EXPORT_JOBS_GLOBAL", "3")
    _wipe(queue_dsn)
    a = _queue(queue_dsn, "analyst-a", 5)   # one analyst asks for five at once
    b = _queue(queue_dsn, "analyst-b", 1)
    positions = [jobs.get(queue_dsn, actor("analyst-a"), j)["position"] for j in a]
    assert positions == [1, 2, 3, 4, 5]
    claimed = []
    while (job := jobs.claim(queue_dsn, "test-worker")) is not None:
        claimed.append(job["id"])
    # a's first two run; a's third waits for a's slot although it is older than b's job; then the
    # global limit (3) stops everything
    assert claimed == [a[0], a[1], b[0]]
    assert jobs.get(queue_dsn, actor("analyst-a"), a[2])["position"] == 1
    assert jobs.get(queue_dsn, actor("analyst-a"), a[4])["position"] == 3
    assert jobs.update(queue_dsn, a[0], "done", 1, "x.gpkg")  # a slot of a's frees
    assert jobs.claim(queue_dsn, "test-worker")["id"] == a[2]
    assert jobs.claim(queue_dsn, "test-worker") is None        # 3 running again
    running = scalar(queue_dsn, "SELECT count(*) FROM export_job WHERE state = 'running'")
    assert running == 3


def test_concurrent_claimers_never_pass_the_limits(queue_dsn, monkeypatch):
    """Eight claimers at once (as eight server processes would): the advisory lock keeps the counts exact."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("ONEMAP_EXPORT_JOBS_PER_USER", "2")
    monkeypatch.setenv("ONEMAP_EXPORT_JOBS_GLOBAL", "3")
    _wipe(queue_dsn)
    for who in ("u1", "u2", "u3"):
        _queue(queue_dsn, who, 4)
    with ThreadPoolExecutor(8) as pool:
        got = [j for j in pool.map(lambda i: jobs.claim(queue_dsn, f"w{i}"), range(24)) if j]
    assert len(got) == 3
    per_user = {}
    for j in got:
        per_user[j["username"]] = per_user.get(j["username"], 0) + 1
    assert max(per_user.values()) <= 2


def test_too_many_waiting_is_429_and_read_only_starts_nothing(queue_dsn, monkeypatch):
    monkeypatch.setenv("ONEMAP_EXPORT_QUEUE_PER_USER", "3")
    _wipe(queue_dsn)
    _queue(queue_dsn, "greedy", 3)
    with pytest.raises(jobs.QueueFull, match="already have 3 exports waiting") as info:
        _queue(queue_dsn, "greedy", 1)
    assert info.value.status == 429
    _queue(queue_dsn, "someone-else", 1)  # the cap is per user
    kiosk = Actor(user_id=None, username="kiosk", role="leader", unit_code="150623", region_code="150623",
                  read_only=True)
    for start in (lambda: jobs.create(queue_dsn, kiosk, ("incidents",), "gpkg", "EPSG:4490", {}, 1),
                  lambda: ex.start(queue_dsn, kiosk, ex.ExportRequest(("incidents",)))):
        with pytest.raises(jobs.ReadOnlyActor) as info:
            start()
        assert info.value.status == 403
    assert scalar(queue_dsn, "SELECT count(*) FROM export_job WHERE username = 'kiosk'") == 0


def test_a_running_job_whose_worker_died_fails_with_a_reason_and_expired_files_go(queue_dsn, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setenv("ONEMAP_EXPORT_JOBS_PER_USER", "3")
    _wipe(queue_dsn)
    dead, alive, old = _queue(queue_dsn, "restarted", 3)
    assert [jobs.claim(queue_dsn, "test-worker")["id"] for _ in range(3)] == [dead, alive, old]
    conn = connect(queue_dsn)
    with conn, conn.cursor() as cur:  # the server running `dead` stopped beating ten minutes ago
        cur.execute("UPDATE export_job SET heartbeat_at = now() - interval '10 minutes' WHERE id = %s", (dead,))
    conn.close()
    assert jobs.update(queue_dsn, old, "done", 1, "old.gpkg")
    folder = jobs.job_folder(old, tmp_path)
    (folder / "old.gpkg").write_bytes(b"x")
    conn = connect(queue_dsn)
    with conn, conn.cursor() as cur:  # its time to live ran out
        cur.execute("UPDATE export_job SET expires_at = now() - interval '1 second' WHERE id = %s", (old,))
    conn.close()
    reaped, expired = jobs.housekeep(queue_dsn, stale_s=60, base=tmp_path)
    assert reaped == [dead] and expired == [old]
    got = {j: jobs.get(queue_dsn, actor("restarted"), j) for j in (dead, alive, old)}
    assert got[dead]["state"] == "failed" and "interrupted" in got[dead]["error"] and "start it again" in got[dead]["error"]
    assert got[alive]["state"] == "running"  # its worker beats: untouched
    assert got[old]["state"] == "expired" and not folder.exists()
    assert not jobs.update(queue_dsn, dead, "done", 1, "late.gpkg")  # a late finish cannot revive it


def test_a_killed_worker_process_fails_its_job_with_a_reason(queue_dsn, tmp_path):
    """The OOM killer (or anyone) ends an export's process: the dispatcher records why."""
    from exports import queue

    _wipe(queue_dsn)
    [job_id] = _queue(queue_dsn, "crashy", 1)
    dispatcher = queue.Dispatcher(queue_dsn, tmp_path)
    dispatcher._spawn(jobs.claim(queue_dsn, dispatcher.worker))  # what the dispatcher's loop does
    dispatcher.children[job_id].kill()  # still starting up: killed before it could write anything
    deadline = time.monotonic() + 60
    while (job := jobs.get(queue_dsn, actor("crashy"), job_id))["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["state"] == "failed" and "ended abnormally (status -9)" in job["error"]
    assert not any(p.is_file() for p in tmp_path.rglob("*"))  # nothing half-written left


# -- through the real server and real worker processes -----------------------------------------

@pytest.fixture(scope="module")
def tokens(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = {"analyst": issue_token(conn, "demo-analyst", "test_export_jobs"),
               "leader": issue_token(conn, "demo-leader-shanghaimiao", "test_export_jobs"),
               "kiosk": issue_token(conn, "demo-leader", "test_export_jobs kiosk", read_only=True)}
    conn.close()
    return out


def _wait_done(get_job, ids, timeout=240):
    deadline = time.monotonic() + timeout  # a bound on waiting, not a timing assertion
    while True:
        states = {i: get_job(i) for i in ids}
        if all(s["state"] in ("done", "failed") for s in states.values()):
            return states
        assert time.monotonic() < deadline, states
        time.sleep(0.3)


@pytest.fixture
def only_served_dispatchers(demo_dsn):
    """No dispatcher of this test process works the demo database meanwhile (the in-process test
    server started one): only the served processes claim, with the settings they were given."""
    import os

    from exports import queue

    for key in [k for k in queue._DISPATCHERS if k[1] == os.getpid()]:  # any login to it (owner, app role)
        queue._DISPATCHERS.pop(key).stop()
    yield  # the next export started in this process starts a new one (queue.ensure)


def test_queued_jobs_survive_a_server_restart_and_files_are_private(demo_dsn, tokens, tmp_path,
                                                                     only_served_dispatchers):
    from served import get, onemap_serve, post_json

    body = {"layers": ["incidents", "villages"], "format": "gpkg", "crs": "EPSG:4545"}
    files = tmp_path / "exports"
    env = {"EXPORT_JOBS_PER_USER": 1, "EXPORT_JOBS_GLOBAL": 1, "EXPORT_DIR": files}
    ids = []
    with onemap_serve(demo_dsn, tmp_path / "first.log", workers=2, **env) as base:
        for _ in range(6):  # one runs at a time; the stop (graceful, up to 5 s) must leave some queued
            status, job = post_json(base + "/api/exports", body, tokens["analyst"])
            assert status == 202, job
            ids.append(job["id"])
        seen = [json.loads(get(f"{base}/api/exports/{i}", tokens["analyst"])[2]) for i in ids]
        waiting = [s for s in seen if s["state"] == "queued"]
        assert waiting and all(s["position"] >= 1 and "in the queue" in s["message"] for s in waiting)
        # one consistent snapshot: one runs, the rest wait in the order they came
        mine = [j for j in jobs.recent(demo_dsn, actor("demo-analyst"), 20) if j["id"] in ids][::-1]
        assert sum(j["state"] == "running" for j in mine) <= 1
        places = [j["position"] for j in mine if j["state"] == "queued"]
        assert places == list(range(1, len(places) + 1))
    # the server is gone (as in a restart): what was queued is still queued, nothing failed
    states = dict(_states(demo_dsn, ids))
    assert "queued" in states.values() and "failed" not in states.values(), states
    with onemap_serve(demo_dsn, tmp_path / "second.log", workers=2, **env) as base:
        done = _wait_done(lambda i: json.loads(get(f"{base}/api/exports/{i}", tokens["analyst"])[2]), ids)
        assert {s["state"] for s in done.values()} == {"done"}, done
        got = get(base + done[ids[-1]]["file_url"], tokens["analyst"])
        assert got[0] == 200 and got[2][:16] == b"SQLite format 3\x00"
    assert stat.S_IMODE(files.stat().st_mode) == 0o700
    for i in ids:
        folder = files / i
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        [f] = list(folder.iterdir())
        assert stat.S_IMODE(f.stat().st_mode) == 0o600 and f.suffix == ".gpkg"


def _states(dsn, ids):
    conn = connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT id::text, state FROM export_job WHERE id = ANY(%s::uuid[])", (ids,))
        rows = cur.fetchall()
    conn.close()
    return rows


def test_expired_file_is_gone_and_says_410(demo_server, demo_dsn, tokens):
    import requests

    h = {"Authorization": f"Bearer {tokens['leader']}"}
    r = requests.post(demo_server + "/api/exports", json={"layers": ["villages"], "format": "geojson",
                                                           "crs": "EPSG:4326"}, headers=h)
    assert r.status_code == 202
    job_id = r.json()["id"]
    done = _wait_done(lambda i: requests.get(f"{demo_server}/api/exports/{i}", headers=h).json(), [job_id])[job_id]
    assert done["state"] == "done" and done["expires_at"]
    path = jobs.directory() / job_id / done["file_name"]
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = connect(demo_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE export_job SET expires_at = now() - interval '1 second' WHERE id = %s", (job_id,))
    conn.close()
    jobs.housekeep(demo_dsn, stale_s=60)
    assert not path.exists()
    assert requests.get(f"{demo_server}/api/exports/{job_id}", headers=h).json()["state"] == "expired"
    r = requests.get(f"{demo_server}/api/exports/{job_id}/file", headers=h)
    assert r.status_code == 410 and "start the export again" in r.json()["error"]["message"]


def test_a_kiosk_session_starts_no_export_through_the_api_or_the_analyst_page(demo_dsn, tokens):
    from dashboard import pages_analyst
    from web.auth import install_auth

    before = scalar(demo_dsn, "SELECT count(*) FROM export_job WHERE username = 'demo-leader'")
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = pages_analyst.layout("en")
    pages_analyst.register(app, demo_dsn)
    install_auth(app.server, demo_dsn, secret_key="test-jobs")
    client = app.server.test_client()
    assert client.get(f"/kiosk?token={tokens['kiosk']}").status_code == 303  # a wall's read-only session
    csrf = client.get_cookie("_csrf_token").value
    output = next(k for k in app.callback_map if k.startswith("..analyst-job."))
    form = {"layers": ["villages"], "format": "gpkg", "crs": "EPSG:4490", "since": None, "until": None,
            "categories": None, "states": None, "unit": None, "bbox": None}
    body = {"output": output,
            "outputs": [{"id": "analyst-job", "property": "data"}, {"id": "analyst-poll", "property": "disabled"},
                        {"id": "analyst-message", "property": "children"}],
            "inputs": [{"id": "analyst-start", "property": "n_clicks", "value": 1}],
            "state": [{"id": f"analyst-{k}", "property": "value", "value": v} for k, v in form.items()],
            "changedPropIds": ["analyst-start.n_clicks"]}
    r = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf})
    # the gate lets a kiosk's session call callbacks (the wall needs them); the export service is
    # what refuses, so every path that can start an export is covered by one check
    assert r.status_code == 200 and "read-only session (a kiosk) cannot start exports" in r.get_data(as_text=True)
    assert scalar(demo_dsn, "SELECT count(*) FROM export_job WHERE username = 'demo-leader'") == before


def test_a_read_only_token_is_refused_by_the_export_api(demo_server, demo_dsn, tokens):
    import requests

    before = scalar(demo_dsn, "SELECT count(*) FROM export_job WHERE username = 'demo-leader'")
    r = requests.post(demo_server + "/api/exports", json={"layers": ["villages"]},
                      headers={"Authorization": f"Bearer {tokens['kiosk']}"})
    assert r.status_code == 403
    assert scalar(demo_dsn, "SELECT count(*) FROM export_job WHERE username = 'demo-leader'") == before
