"""The OpenAPI document is generated from the routes and their models: every Flask route under
/api is in it, with its path and query parameters, its request body and its responses."""
from __future__ import annotations

import re

import pytest

from app import Settings, create_app


@pytest.fixture(scope="module")
def app(quiet_dsn):
    return create_app(Settings(dsn=quiet_dsn))


@pytest.fixture(scope="module")
def doc(app):
    r = app.test_client().get("/api/v1/openapi.json")  # public: no token needed to read it
    assert r.status_code == 200 and r.is_json
    return r.get_json()


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, path, method.lower()


def test_every_api_route_is_documented_with_its_parameters_and_responses(app, doc):
    routes = list(_api_routes(app))
    assert len(routes) >= 20
    for rule, path, method in routes:
        assert path in doc["paths"], f"{rule.rule} is not in the OpenAPI document"
        op = doc["paths"][path].get(method)
        assert op is not None, f"{method.upper()} {path} is not documented"
        assert op.get("summary") and "<" not in op["summary"], f"{method} {path}: no summary (docstring)"
        documented = {(p["name"], p["in"]) for p in op.get("parameters", [])}
        for name in rule.arguments:
            assert (name, "path") in documented, f"{method} {path}: path parameter {name} missing"
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), f"{method} {path}: no success response"
        for code, response in op["responses"].items():
            assert response.get("description"), f"{method} {path} {code}: no description"
            if code.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), f"{method} {path} {code} is not the Error body"
        if method == "post":
            assert "requestBody" in op, f"POST {path}: its body is not described"


def test_document_has_no_routes_that_do_not_exist(app, doc):
    served = {(path, method) for _, path, method in _api_routes(app)}
    for path, ops in doc["paths"].items():
        for method in ops:
            assert (path, method) in served, f"{method} {path} is documented but not served"


def test_query_parameters_come_from_the_models_that_parse_them(doc):
    from api import models as m

    cases = {("/api/v1/incidents", "get"): m.IncidentListQuery,
             ("/api/v1/isochrones", "get"): m.IsochroneQuery,
             ("/api/v1/routes", "get"): m.RouteQuery,
             ("/api/v1/coverage/suggest", "get"): m.SuggestQuery,
             ("/api/v1/patrol-coverage", "get"): m.SinceQuery}
    for (path, method), model in cases.items():
        names = {p["name"] for p in doc["paths"][path][method]["parameters"] if p["in"] == "query"}
        assert names == {f.alias or k for k, f in model.model_fields.items()}, path
    limit = next(p for p in doc["paths"]["/api/v1/incidents"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)
    routes = {p["name"]: p for p in doc["paths"]["/api/v1/routes"]["get"]["parameters"]}
    assert routes["from"]["required"] and routes["to"]["required"]
    kind = next(p for p in doc["paths"]["/api/v1/isochrones"]["get"]["parameters"] if p["name"] == "kind")
    assert "police_station" in kind["schema"]["enum"]


def test_bodies_and_schemas(doc):
    schemas = doc["components"]["schemas"]
    report = doc["paths"]["/api/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert report["$ref"].endswith("/ReportIn")
    assert set(schemas["ReportIn"]["required"]) == {"id", "category", "lon", "lat", "observed_at"}
    photo = doc["paths"]["/api/v1/incidents/{incident_id}/photos"]["post"]["requestBody"]["content"]
    assert set(photo) == {"image/jpeg", "image/png"}
    action = next(p for p in doc["paths"]["/api/v1/incidents/{incident_id}/actions/{action}"]["post"]["parameters"]
                  if p["name"] == "action")
    assert "accept" in action["schema"]["enum"]
    assert "bearer" in doc["components"]["securitySchemes"]
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', __import__("json").dumps(doc)):
        assert ref in schemas, f"dangling $ref {ref}"


def test_the_document_is_the_same_every_time(app, doc):
    """Generating the document again (another request, another app in the process) loses no
    schema: spectree moves nested models out of its registry while generating."""
    again = app.test_client().get("/api/v1/openapi.json").get_json()
    assert again == doc
    schemas = again["components"]["schemas"]
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', __import__("json").dumps(again)):
        assert ref in schemas, f"dangling $ref {ref} in a second document"


def test_the_hand_written_document_is_gone():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "api" / "openapi.py").read_text(encoding="utf-8")
    assert '"paths": {' not in text and len(text.splitlines()) < 120
