"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json."""
from __future__ import annotations

from data.incidents import ACTION_ROLES, DESCRIPTION_MAX, STATES


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {"400": _error("malformed request (e.g. not JSON)"), "401": _error("no or invalid token"),
          "403": _error("your role may not do this"), "404": _error("not in your jurisdiction"),
          "422": _error("invalid fields (see error.fields)"), "429": _error("rate limited")}


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def openapi_document() -> dict:
    """The whole document (built on request: it is small)."""
    incident_id = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "OneMap field-app API", "version": "1",
                 "description": "Grid workers and departments report, handle and follow incidents. "
                                "Authenticate with `Authorization: Bearer <token>` (`onemap users token`)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/me": {"get": {"summary": "Who the token belongs to",
                            "responses": {"200": {"description": "the caller"}, "401": ERRORS["401"]}}},
            "/categories": {"get": {"summary": "Incident categories (GB/T 31000 domains)",
                                    "responses": {"200": {"description": "categories"}}}},
            "/incidents": {
                "post": {"summary": "Report an incident (idempotent on the client's UUID)",
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/ReportIn"}}}},
                         "responses": {"201": _json("Incident", "created"),
                                       "200": _json("Incident", "a retry of a stored report"),
                                       **{k: ERRORS[k] for k in ("400", "401", "403", "422", "429")},
                                       "413": _error("body too large")}},
                "get": {"summary": "List incidents in your jurisdiction",
                        "parameters": [
                            {"name": "bbox", "in": "query", "schema": {"type": "string"},
                             "description": "minlon,minlat,maxlon,maxlat (WGS84)"},
                            {"name": "unit", "in": "query", "schema": {"type": "string"},
                             "description": "any grid unit code in your jurisdiction"},
                            {"name": "state", "in": "query", "schema": {"type": "string"},
                             "description": "comma-separated: " + ", ".join(STATES)},
                            {"name": "category", "in": "query", "schema": {"type": "string"}},
                            {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                            {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                            {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
                        "responses": {"200": _json("IncidentPage"), **{k: ERRORS[k] for k in ("401", "403", "422")}}}},
            "/incidents/{incident_id}": {"get": {
                "summary": "One incident with its timeline", "parameters": [incident_id],
                "responses": {"200": _json("Incident"), **{k: ERRORS[k] for k in ("401", "404")}}}},
            "/incidents/{incident_id}/actions/{action}": {"post": {
                "summary": "Move an incident through the closed loop",
                "parameters": [incident_id, {"name": "action", "in": "path", "required": True,
                                             "schema": {"type": "string", "enum": sorted(ACTION_ROLES)}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}}}},
                "responses": {"200": _json("Incident"),
                              "409": _error("not allowed in the incident's state; error.allowed lists what is"),
                              **{k: ERRORS[k] for k in ("400", "401", "403", "404", "422")}}}},
            "/incidents/{incident_id}/photos": {"post": {
                "summary": "Attach a photo (JPEG or PNG bytes as the body, at most 10 MB)",
                "parameters": [incident_id],
                "requestBody": {"required": True, "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                                              "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"201": {"description": "stored"}, "413": _error("larger than 10 MB"),
                              **{k: ERRORS[k] for k in ("401", "404", "422")}}}},
            "/positions": {"post": {
                "summary": "A batch of the worker's GPS fixes (resent fixes are kept once)",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/PositionsIn"}}}},
                "responses": {"201": {"description": "stored"}, **{k: ERRORS[k] for k in ("400", "401", "403", "422")}}}},
            "/routes": {"get": {
                "summary": "Road route between two ends, both snapped mid-edge; Chinese turn list",
                "parameters": [{"name": "from", "in": "query", "required": True, "schema": {"type": "string"},
                                "description": "lon,lat | facility:<id> | department:<code> | worker:<id>"},
                               {"name": "to", "in": "query", "required": True, "schema": {"type": "string"},
                                "description": "lon,lat | incident:<uuid>"}],
                "responses": {"200": {"description": "GeoJSON Feature (LineString) with length_m, travel_s, "
                                                     "offroad_s, total_s, minutes, steps"},
                              **{k: ERRORS[k] for k in ("401", "404", "422", "429")}}}},
            "/incidents/{incident_id}/route": {"get": {
                "summary": "Route from a responder to the incident", "parameters": [
                    incident_id, {"name": "from", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "GeoJSON Feature"}, **{k: ERRORS[k] for k in ("401", "404", "422")}}}},
            "/incidents/{incident_id}/responders": {"get": {
                "summary": "Candidate responders ranked by travel time (dispatch suggestion)",
                "parameters": [incident_id, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "items sorted by total_s"}, **{k: ERRORS[k] for k in ("401", "404")}}}},
            "/isochrones": {"get": {
                "summary": "Area reachable within N minutes from every facility of a kind",
                "parameters": [{"name": "kind", "in": "query", "schema": {"type": "string"}},
                               {"name": "minutes", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "GeoJSON Feature (MultiPolygon)"}, **{k: ERRORS[k] for k in ("401", "422")}}}},
            "/coverage": {"get": {"summary": "Share of residents inside the 10-minute (town) or 30-minute (pastoral) circle, per cell",
                                  "responses": {"200": {"description": "kpi and cells"}, "401": ERRORS["401"]}}},
            "/coverage/gaps": {"get": {"summary": "Cells short of coverage, as GeoJSON",
                                       "responses": {"200": {"description": "FeatureCollection"}, "401": ERRORS["401"]}}},
            "/coverage/suggest": {"get": {"summary": "Where one more station would close the most gap",
                                          "responses": {"200": {"description": "picks, alternatives, kpi_after"},
                                                        "401": ERRORS["401"]}}},
            "/patrol-coverage": {"get": {
                "summary": "Cells of your jurisdiction visited by a worker since a time",
                "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}],
                "responses": {"200": {"description": "coverage"}, "401": ERRORS["401"]}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "allowed": {"type": "array", "items": {"type": "string"}},
                    "outside_m": {"type": "number"}}}}},
                "ReportIn": {"type": "object", "required": ["id", "category", "lon", "lat", "observed_at"],
                             "properties": {
                                 "id": {"type": "string", "format": "uuid", "description": "made by the phone; the idempotency key"},
                                 "category": {"type": "string"},
                                 "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
                                 "lon": {"type": "number", "minimum": -180, "maximum": 180},
                                 "lat": {"type": "number", "minimum": -90, "maximum": 90},
                                 "crs": {"type": "string", "enum": ["wgs84", "gcj02"], "default": "wgs84"},
                                 "observed_at": {"type": "string", "format": "date-time"}}},
                "ActionIn": {"type": "object", "properties": {
                    "note": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"},
                    "department": {"type": "string", "description": "dispatch: a department code (default: the category's)"}}},
                "PositionsIn": {"type": "object", "required": ["positions"], "properties": {"positions": {
                    "type": "array", "maxItems": 1000, "items": {"type": "object", "required": ["at", "lon", "lat"],
                    "properties": {"at": {"type": "string", "format": "date-time"}, "lon": {"type": "number"},
                                   "lat": {"type": "number"}, "accuracy_m": {"type": "number"}}}}}},
                "Incident": {"type": "object", "properties": {
                    "id": {"type": "string", "format": "uuid"}, "category": {"type": "string"},
                    "state": {"type": "string", "enum": list(STATES)},
                    "handling_level": {"type": "integer", "description": "4 grid, 3 village, 2 town, 1 banner"},
                    "due_at": {"type": "string", "format": "date-time"}, "overdue": {"type": "boolean"},
                    "cell_code": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"},
                    "timeline": {"type": "array", "items": {"type": "object"}}}},
                "IncidentPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Incident"}},
                    "next": {"type": "string"}}},
            },
        },
    }
