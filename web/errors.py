"""One table from domain errors to HTTP, and JSON error bodies for every client error under /api."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from data.incidents import IncidentError
from web.params import BadParameters

log = logging.getLogger("onemap.api")
API_PREFIXES = ("/api/", "/open311/", "/ogc/")
API_ROOTS = ("/api", "/open311", "/ogc")


def error_body(status: int, code: str, message: str, fields: dict | None = None, **extra):
    """A JSON error response: ``{"error": {"code", "message", "fields", …}}``."""
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    return response


def install_error_handlers(app: Flask) -> None:
    """Turn domain errors and HTTP errors on API paths into JSON; unexpected ones into a logged 500."""

    @app.errorhandler(IncidentError)
    def domain_error(exc: IncidentError):
        return error_body(exc.status, exc.code, exc.message, exc.fields, **exc.extra)

    @app.errorhandler(BadParameters)
    def bad_parameters(exc: BadParameters):
        return error_body(exc.status, exc.code, exc.message, exc.fields)

    def unknown_api_path():
        """An API path no route serves is a JSON 404, not the dashboard's page shell (catch-all)."""
        rule = request.url_rule
        if (rule is None or rule.rule == "/<path:path>") and (
                request.path.startswith(API_PREFIXES) or request.path in API_ROOTS):
            return error_body(404, "not_found", f"no API resource at {request.path}; the API is described "
                                                "at /api/v1/openapi.json")
        return None

    hooks = app.before_request_funcs.setdefault(None, [])
    if unknown_api_path not in hooks:
        hooks.insert(0, unknown_api_path)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith(API_PREFIXES):
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 413:
            message = "the request body is too large"
        return error_body(exc.code or 400, code, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith(API_PREFIXES):
            raise exc
        return error_body(500, "internal", "the server failed; the error is logged, try again later")
