"""The field app's REST API (/api/v1): report, read, act, photos, GPS positions.

Views only adapt HTTP to ``data.incidents``; the rules live there and in the database.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from uuid import UUID

from flask import Blueprint, Response, current_app, jsonify, request

from api import models as m
from api.openapi import documented, openapi_document
from config import Settings
from data import evaluation, incidents
from db.core import pooled, writer
from web.auth import current_actor
from web.errors import error_body
from web.params import loads, parse_query, public_url, region_tz

JSON_MAX_BYTES = 1024 * 1024


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


class RateLimiter:
    """At most ``limit`` requests per ``window_s`` per key (in this process), to blunt floods."""

    def __init__(self, limit: int, window_s: float):
        self.limit, self.window = limit, window_s
        self.hits: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record a hit for ``key``; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self.lock:
            q = self.hits[key]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


def gate(limiter: RateLimiter, public_endpoints: frozenset[str] = frozenset()):
    """A before_request hook for API blueprints: a caller (token or session), read-only callers
    only reading, within the rate limit; the caller is kept in the request environ."""

    def authenticate():
        if request.endpoint in public_endpoints:
            return None
        actor = current_actor()
        if actor is None:
            return error_body(401, "unauthorized", "send 'Authorization: Bearer <token>' (onemap users token)")
        if actor.read_only and request.method not in ("GET", "HEAD", "OPTIONS"):
            return error_body(403, "read_only", "this token or kiosk session is read-only")
        if not limiter.allow(actor.username):
            return error_body(429, "rate_limited", f"more than {limiter.limit} requests in {limiter.window:g} s")
        request.environ["onemap.actor"] = actor
        return None

    return authenticate


def _actor():
    return request.environ["onemap.actor"]

def _body() -> dict | list:
    if request.content_length and request.content_length > JSON_MAX_BYTES:
        return _abort(413, "payload_too_large", f"JSON bodies are limited to {JSON_MAX_BYTES} bytes")
    raw = request.get_data(cache=False)
    if len(raw) > JSON_MAX_BYTES:
        return _abort(413, "payload_too_large", f"JSON bodies are limited to {JSON_MAX_BYTES} bytes")
    try:
        return loads(raw)  # bounded: depth, NaN, NUL and lone surrogates refused (web/params.py)
    except ValueError as exc:
        return _abort(400, "malformed_json", f"the body is not valid JSON: {exc}")

@documented(errors=())
def openapi():
    """This document (OpenAPI 3.1, generated from the routes and their models)."""
    return jsonify(openapi_document())

@documented(ok=(200, m.Me), errors=(401, 429))
def me():
    """Who the token or session belongs to."""
    a = _actor()
    return jsonify({"username": a.username, "role": a.role, "unit_code": a.unit_code,
                    "region_code": a.region_code, "department_code": a.department_code,
                    "worker_id": a.worker_id})

@documented(ok=(200, list[m.Category]), errors=(401, 429))
def categories():
    """Incident categories (GB/T 31000 domains)."""
    with pooled(_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en, gbt31000_domain, department_kind "
                    "FROM incident_category ORDER BY sort_order, code")
        cols = [c.name for c in cur.description]
        return jsonify([dict(zip(cols, r, strict=True)) for r in cur.fetchall()])

@documented(json=m.ReportIn, ok=(201, m.Incident), HTTP_200=(m.Incident, "a retry of a stored report"),
            errors=(400, 401, 403, 413, 422, 429))
def report():
    """Report an incident (idempotent on the phone's UUID; GCJ-02 accepted); ``duplicates`` lists
    open incidents nearby of the same or a related category (a dispatcher may merge them)."""
    now = datetime.now(timezone.utc)
    rep = incidents.validate_report(_body(), now)
    actor = _actor()  # before the connection: the gate already resolved it
    with writer(_dsn(), autocommit=True) as conn:  # the report is one statement, its own transaction
        item, created = incidents.report(conn, actor, rep, now=now)
        item["duplicates"] = evaluation.duplicates_of(conn, actor, item, now)
    return jsonify(item), (201 if created else 200)

@documented(query=m.IncidentListQuery, ok=(200, m.IncidentPage), errors=(400, 401, 403, 422, 429))
def list_():
    """Incidents in your jurisdiction, newest first, a page at a time (``next`` links on)."""
    q = parse_query(m.IncidentListQuery, tz=region_tz(_dsn(), _actor().region_code))
    with pooled(_dsn()) as conn:
        items = incidents.list_incidents(
            conn, _actor(), states=list(q.state) if q.state else None,
            categories=list(q.category) if q.category else None, since=q.since, until=q.until,
            bbox=list(q.bbox) if q.bbox else None, unit=q.unit, overdue=q.overdue,
            limit=q.limit + 1, offset=q.offset, peek=True)
    page = {"items": items[:q.limit], "limit": q.limit, "offset": q.offset}
    if len(items) > q.limit:
        page["next"] = public_url(request.path, {**request.args.to_dict(), "offset": q.offset + q.limit})
    return jsonify(page)

@documented(ok=(200, m.Incident), errors=(401, 404, 429))
def get_one(incident_id):
    """One incident with its timeline."""
    with pooled(_dsn()) as conn:
        return jsonify(incidents.get(conn, _actor(), incident_id))

@documented(json=m.ActionIn, ok=(200, m.Incident), errors=(400, 401, 403, 404, 409, 422, 429))
def act(incident_id: UUID, action: str) -> Response:
    """Move an incident through the closed loop (accept, dispatch, resolve, verify, close …)."""
    payload = _body() if request.content_length else {}
    if not isinstance(payload, dict):
        raise incidents.Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    lon = payload.get("lon")
    lat = payload.get("lat")
    if (lon is None) != (lat is None):
        errors["lon"] = "give both lon and lat, or neither"
    elif lon is not None:
        incidents.validate_point(payload, errors)
    note = payload.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > incidents.DESCRIPTION_MAX):
        errors["note"] = f"a string of at most {incidents.DESCRIPTION_MAX} characters"
    department = payload.get("department")
    if department is not None and not isinstance(department, str):
        errors["department"] = "a department code"
    expected = payload.get("expected_version")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
        errors["expected_version"] = "the incident's version as read (a whole number)"
    if errors:
        raise incidents.Invalid("invalid action fields", errors)
    with writer(_dsn()) as conn:
        item = incidents.act(conn, _actor(), incident_id, action, note=note, lon=lon, lat=lat,
                             department=department, expected_version=expected)
    return jsonify(item)

@documented(ok=(201, m.Photo), errors=(401, 404, 413, 422, 429))
def add_photo(incident_id):
    """Attach a photo (JPEG or PNG bytes as the body, at most 10 MB)."""
    limit = incidents.PHOTO_MAX_BYTES
    if request.content_length and request.content_length > limit:
        return _abort(413, "payload_too_large", f"photos are limited to {limit // (1024 * 1024)} MB")
    data = request.get_data(cache=False)
    with writer(_dsn()) as conn:
        photo = incidents.add_photo(conn, _actor(), incident_id, data, request.content_type)
    return jsonify(photo), 201

@documented(errors=(401, 403, 404, 429))
def get_photo(incident_id, photo_id):
    """A photo of an incident you may read, if your role sees its personal data (domain.policy)."""
    with pooled(_dsn()) as conn:
        content_type, data = incidents.photo(conn, _actor(), incident_id, photo_id)
    # stored photos are re-encoded JPEG/PNG (data.photos); served as exactly that, never sniffed,
    # never a document that could run script even if opened directly
    return Response(data, mimetype=content_type, headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f"inline; filename=photo-{photo_id}.{content_type.rsplit('/', 1)[1]}"})

@documented(json=m.PositionsIn, ok=(201, m.Stored), errors=(400, 401, 403, 422, 429))
def positions():
    """A batch of the worker's GPS fixes (resent fixes are kept once)."""
    payload = _body()
    fixes = payload.get("positions") if isinstance(payload, dict) else None
    with writer(_dsn()) as conn:
        stored = incidents.record_positions(conn, _actor(), fixes)
    return jsonify({"stored": stored, "received": len(fixes)}), 201

@documented(query=m.SinceQuery, ok=(200, m.PatrolCoverage), errors=(401, 422, 429))
def patrol_coverage():
    """Cells of your jurisdiction visited by a worker since a time (default: 24 hours ago)."""
    q = parse_query(m.SinceQuery, tz=region_tz(_dsn(), _actor().region_code))
    since = q.since or (datetime.now(timezone.utc) - timedelta(days=1))
    with pooled(_dsn()) as conn:
        cells = incidents.patrol_coverage(conn, _actor(), since)
    visited = sum(c["visited"] for c in cells)
    return jsonify({"since": since.isoformat(), "cells": len(cells), "visited": visited, "items": cells})


def create_blueprint(rate_limit: int | None = None, window_s: float = 60.0) -> Blueprint:
    """The /api/v1 blueprint; ``rate_limit`` requests per caller per minute (``Settings.api_rate``)."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    rate_limit = rate_limit or Settings().api_rate
    limiter = RateLimiter(rate_limit, window_s)

    bp.before_request(gate(limiter, frozenset({"api_v1.openapi"})))

    bp.add_url_rule("/openapi.json", view_func=openapi, methods=["GET"])
    bp.add_url_rule("/me", view_func=me, methods=["GET"])
    bp.add_url_rule("/categories", view_func=categories, methods=["GET"])
    bp.add_url_rule("/incidents", view_func=report, methods=["POST"])
    bp.add_url_rule("/incidents", view_func=list_, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>", view_func=get_one, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/actions/<action>", view_func=act, methods=["POST"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/photos", view_func=add_photo, methods=["POST"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/photos/<int:photo_id>", view_func=get_photo, methods=["GET"])
    bp.add_url_rule("/positions", view_func=positions, methods=["POST"])
    bp.add_url_rule("/patrol-coverage", view_func=patrol_coverage, methods=["GET"])
    return bp


def _abort(status: int, code: str, message: str):
    raise _HTTPError(status, code, message)


class _HTTPError(incidents.IncidentError):
    """A client error that is about HTTP itself (size, syntax) rather than the domain."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code

