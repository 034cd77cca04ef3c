"""The /analyst page's callbacks, called the way Dash's renderer calls them (a POST per callback)."""
from __future__ import annotations

import dash
import pytest

from dashboard import pages_analyst
from data.users import issue_token
from db.core import connect
from web.auth import install_auth


@pytest.fixture(scope="module")
def client(demo_dsn):
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = pages_analyst.layout("en")
    pages_analyst.register(app, demo_dsn)
    install_auth(app.server, demo_dsn, secret_key="test")
    app.server.dash_app = app
    return app.server.test_client()


@pytest.fixture(scope="module")
def token(demo_dsn):
    conn = connect(demo_dsn)
    with conn:
        out = issue_token(conn, "demo-leader-shanghaimiao", "test_export_page")
    conn.close()
    return out


def _count(client, headers, **form):
    values = {"layers": ["incidents", "cells"], "format": "gpkg", "crs": "EPSG:4490", "since": None,
              "until": None, "categories": None, "states": None, "unit": None, "bbox": None, **form}
    output = next(k for k in client.application.dash_app.callback_map if k.startswith("..analyst-counts."))
    body = {"output": output,
            "outputs": [{"id": "analyst-counts", "property": "children"},
                        {"id": "analyst-message", "property": "children",
                         "allow_duplicate": True}],
            "inputs": [{"id": "analyst-count", "property": "n_clicks", "value": 1}],
            "state": [{"id": "analyst-lang", "property": "data", "value": "en"}]
            + [{"id": f"analyst-{k}", "property": "value", "value": v} for k, v in values.items()],
            "changedPropIds": ["analyst-count.n_clicks"]}
    return client.post("/_dash-update-component", json=body, headers=headers)


def test_count_before_download_is_the_callers_jurisdiction(client, token):
    r = _count(client, {"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "Grid cells: 83" in text and "features in all" in text


def test_bad_form_values_come_back_as_messages(client, token):
    r = _count(client, {"Authorization": f"Bearer {token}"}, unit="150623001")
    assert "outside your jurisdiction" in r.get_data(as_text=True)
    r = _count(client, {"Authorization": f"Bearer {token}"}, bbox="1,2,3")
    assert "bbox '1,2,3'" in r.get_data(as_text=True)


def test_no_actor_no_data(client):
    assert _count(client, {}).status_code == 401


def test_the_job_list_says_where_a_queued_export_waits_and_why_one_failed():
    from dashboard.i18n import t

    job = {"state": "queued", "position": 3, "done": 0, "total": 10, "error": None}
    assert pages_analyst.job_state_text(job, t("en")["analyst"]) == "queued: number 3 in line"
    assert pages_analyst.job_state_text(job, t("zh")["analyst"]) == "排队中，第 3 位"
    failed = dict(job, state="failed", error="interrupted: the server stopped")
    assert "interrupted" in pages_analyst.job_state_text(failed, t("en")["analyst"])
    assert "expired" in pages_analyst.job_state_text(dict(job, state="expired"), t("en")["analyst"])
