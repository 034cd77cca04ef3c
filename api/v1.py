"""The field app's REST API (/api/v1): report, read, act, photos, GPS positions.

Views only adapt HTTP to ``data.incidents``; the rules live there and in the database.
"""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, current_app, jsonify, request

from config import Settings
from web.auth import current_actor
from web.errors import error_body
from api.openapi import openapi_document
from data import incidents
from db.core import pooled, writer

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


def create_blueprint(rate_limit: int | None = None, window_s: float = 60.0) -> Blueprint:
    """The /api/v1 blueprint; ``rate_limit`` requests per caller per minute (``Settings.api_rate``)."""
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    rate_limit = rate_limit or Settings().api_rate
    limiter = RateLimiter(rate_limit, window_s)

    bp.before_request(gate(limiter, frozenset({"api_v1.openapi"})))

    def actor():
        return request.environ["onemap.actor"]

    def body() -> dict | list:
        if request.content_length and request.content_length > JSON_MAX_BYTES:
            return _abort(413, "payload_too_large", f"JSON bodies are limited to {JSON_MAX_BYTES} bytes")
        raw = request.get_data(cache=False)
        if len(raw) > JSON_MAX_BYTES:
            return _abort(413, "payload_too_large", f"JSON bodies are limited to {JSON_MAX_BYTES} bytes")
        try:
            return json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            return _abort(400, "malformed_json", f"the body is not valid JSON: {exc}")

    @bp.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document())

    @bp.get("/me")
    def me():
        a = actor()
        return jsonify({"username": a.username, "role": a.role, "unit_code": a.unit_code,
                        "region_code": a.region_code, "department_code": a.department_code,
                        "worker_id": a.worker_id})

    @bp.get("/categories")
    def categories():
        with pooled(_dsn()) as conn, conn.cursor() as cur:
            cur.execute("SELECT code, name, name_en, gbt31000_domain, department_kind "
                        "FROM incident_category ORDER BY sort_order, code")
            cols = [c.name for c in cur.description]
            return jsonify([dict(zip(cols, r)) for r in cur.fetchall()])

    @bp.post("/incidents")
    def report():
        now = datetime.now(timezone.utc)
        rep = incidents.validate_report(body(), now)
        with writer(_dsn()) as conn:
            item, created = incidents.report(conn, actor(), rep, now=now)
        return jsonify(item), (201 if created else 200)

    @bp.get("/incidents")
    def list_():
        args = request.args
        errors: dict[str, str] = {}
        limit = _int_arg(args, "limit", 50, 1, 500, errors)
        offset = _int_arg(args, "offset", 0, 0, 10_000_000, errors)
        since = _time_arg(args, "since", errors)
        until = _time_arg(args, "until", errors)
        states = _list_arg(args, "state")
        if states and set(states) - set(incidents.STATES):
            errors["state"] = f"unknown state(s); use {', '.join(incidents.STATES)}"
        bbox = None
        if args.get("bbox"):
            try:
                bbox = [float(v) for v in args["bbox"].split(",")]
                if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
                    raise ValueError
            except ValueError:
                errors["bbox"] = "minlon,minlat,maxlon,maxlat with min < max"
        if errors:
            raise incidents.Invalid("invalid query parameters", errors)
        with pooled(_dsn()) as conn:
            items = incidents.list_incidents(
                conn, actor(), states=states, categories=_list_arg(args, "category"), since=since,
                until=until, bbox=bbox, unit=args.get("unit"), overdue=args.get("overdue") == "true",
                limit=limit + 1, offset=offset)
        page = {"items": items[:limit], "limit": limit, "offset": offset}
        if len(items) > limit:
            query = request.args.to_dict() | {"offset": str(offset + limit)}
            page["next"] = request.base_url + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return jsonify(page)

    @bp.get("/incidents/<uuid:incident_id>")
    def get_one(incident_id):
        with pooled(_dsn()) as conn:
            return jsonify(incidents.get(conn, actor(), incident_id))

    @bp.post("/incidents/<uuid:incident_id>/actions/<action>")
    def act(incident_id, action):
        payload = body() if request.content_length else {}
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
        if errors:
            raise incidents.Invalid("invalid action fields", errors)
        with writer(_dsn()) as conn:
            item = incidents.act(conn, actor(), incident_id, action, note=note, lon=lon, lat=lat,
                                 department=department)
        return jsonify(item)

    @bp.post("/incidents/<uuid:incident_id>/photos")
    def add_photo(incident_id):
        limit = incidents.PHOTO_MAX_BYTES
        if request.content_length and request.content_length > limit:
            return _abort(413, "payload_too_large", f"photos are limited to {limit // (1024 * 1024)} MB")
        data = request.get_data(cache=False)
        with writer(_dsn()) as conn:
            photo = incidents.add_photo(conn, actor(), incident_id, data, request.content_type)
        return jsonify(photo), 201

    @bp.get("/incidents/<uuid:incident_id>/photos/<int:photo_id>")
    def get_photo(incident_id, photo_id):
        with pooled(_dsn()) as conn:
            incidents.get(conn, actor(), incident_id)
            with conn.cursor() as cur:
                cur.execute("SELECT content_type, data FROM incident_photo WHERE id = %s AND incident_id = %s",
                            (photo_id, str(incident_id)))
                row = cur.fetchone()
        if row is None:
            raise incidents.NotFound(f"no photo {photo_id} on incident {incident_id}")
        # stored photos are re-encoded JPEG/PNG (data.photos); served as exactly that, never sniffed,
        # never a document that could run script even if opened directly
        return Response(bytes(row[1]), mimetype=row[0], headers={
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f"inline; filename=photo-{photo_id}.{row[0].rsplit('/', 1)[1]}"})

    @bp.post("/positions")
    def positions():
        payload = body()
        fixes = payload.get("positions") if isinstance(payload, dict) else None
        with writer(_dsn()) as conn:
            stored = incidents.record_positions(conn, actor(), fixes)
        return jsonify({"stored": stored, "received": len(fixes)}), 201

    @bp.get("/patrol-coverage")
    def patrol_coverage():
        errors: dict[str, str] = {}
        since = _time_arg(request.args, "since", errors) or (datetime.now(timezone.utc) - timedelta(days=1))
        if errors:
            raise incidents.Invalid("invalid query parameters", errors)
        with pooled(_dsn()) as conn:
            cells = incidents.patrol_coverage(conn, actor(), since)
        visited = sum(c["visited"] for c in cells)
        return jsonify({"since": since.isoformat(), "cells": len(cells), "visited": visited, "items": cells})

    return bp


def _abort(status: int, code: str, message: str):
    raise _HTTPError(status, code, message)


class _HTTPError(incidents.IncidentError):
    """A client error that is about HTTP itself (size, syntax) rather than the domain."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _int_arg(args, key, default, lo, hi, errors) -> int:
    raw = args.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError
        return value
    except ValueError:
        errors[key] = f"an integer from {lo} to {hi}"
        return default


def _time_arg(args, key, errors):
    raw = args.get(key)
    return None if raw is None else incidents.parse_time(raw, key, errors)


def _list_arg(args, key) -> list[str] | None:
    raw = args.get(key)
    return [v for v in raw.split(",") if v] if raw else None
