"""One table from domain errors to HTTP, and JSON error bodies for every client error under /api."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from data.incidents import IncidentError
from web.params import BadParameters, loads

log = logging.getLogger("onemap.api")
API_PREFIXES = ("/api/", "/open311/", "/ogc/")
API_ROOTS = ("/api", "/open311", "/ogc")


def error_body(status: int, code: str, message: str, fields: dict | None = None, **extra):
    """A JSON error response: ``{"error": {"code", "message", "fields", …}}``."""
    body: dict[str, Any] = {"code": code, "message": message}
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

    _install_outage_handling(app, unexpected)


# -- the database is unreachable: 503 + Retry-After, one log line per episode (db/outage.py) --

STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico")
# APIs and what scripts fetch get JSON; browsers navigating get a page
JSON_PREFIXES = ("/api", "/open311", "/ogc", "/_dash-", "/layers/", "/events/")
UNAVAILABLE_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{s}"><title>OneMap 一图指挥</title></head><body>
<h1>数据库暂时无法连接 · The database is unreachable</h1>
<p>本页将在 {s} 秒后自动重试。 This page retries by itself in {s} s.</p></body></html>"""


def unavailable_response():
    """503 with ``Retry-After``: JSON for APIs and scripts, a small self-retrying page for browsers."""
    from db.outage import RETRY_AFTER_S

    path = request.path
    if path.startswith(JSON_PREFIXES) or not request.accept_mimetypes.accept_html:
        response = error_body(503, "database_unavailable",
                              f"the database is unreachable; retry in {RETRY_AFTER_S} s")
    else:
        response = Response(UNAVAILABLE_PAGE.format(s=RETRY_AFTER_S), status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


def _install_outage_handling(app: Flask, unexpected) -> None:
    """Refuse fast while an outage lasts; turn unreachable-database errors into 503, not 500s."""
    import psycopg2

    from db.core import DatabaseError
    from db.outage import is_overload, is_unavailable, tracker

    def refuse_while_down():
        dsn = app.config.get("ONEMAP_DSN")
        if not dsn or request.path.startswith(STATIC_PREFIXES) or not tracker(dsn).down:
            return None
        tracker(dsn).note_refused()
        return unavailable_response()

    hooks = app.before_request_funcs.setdefault(None, [])
    if refuse_while_down not in hooks:
        hooks.insert(0, refuse_while_down)  # before the login gate, which reads the database

    def database_error(exc: Exception):
        dsn = app.config.get("ONEMAP_DSN")
        if not dsn or not is_unavailable(exc):
            return unexpected(exc)
        if not is_overload(exc):  # a busy pool sheds this request; an outage is an episode
            tracker(dsn).report(exc, f"{request.method} {request.path}")
        return unavailable_response()

    for kind in (psycopg2.OperationalError, psycopg2.InterfaceError, DatabaseError):
        app.register_error_handler(kind, database_error)


def json_body(limit: int = 64 * 1024) -> tuple[Any, Response | None]:
    """The request's JSON body, or (None, a 413 past ``limit`` bytes / a 400 for malformed JSON)."""
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        return None, error_body(413, "payload_too_large", f"JSON bodies here are limited to {limit} bytes")
    try:
        return loads(raw), None
    except ValueError as exc:
        return None, error_body(400, "malformed_json", f"the body is not valid JSON: {exc}")
