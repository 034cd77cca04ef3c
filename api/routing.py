"""Routing and service reach under /api/v1: routes, dispatch suggestions, isochrones, coverage.

Views only adapt HTTP to ``data.routing``; jurisdiction is the caller's unit (incidents through
``data.incidents.get``, areas clipped or filtered to the unit's subtree).
"""
from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, request

from api.v1 import RateLimiter, gate
from db.core import pooled, sql, writer
from web.errors import error_body
from data.routing import Invalid
from data.routing import reach
from data.routing import route as routes


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


def _int(name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError
    except ValueError:
        raise Invalid("invalid query parameters", {name: f"an integer from {lo} to {hi}"}) from None
    return value


def _kind(default: str = "governance_centre") -> str:
    kind = request.args.get("kind", default)
    if kind not in reach.FACILITY_KINDS:
        raise Invalid("invalid query parameters", {"kind": f"one of {', '.join(reach.FACILITY_KINDS)}"})
    return kind


PUBLISHED_MINUTES = (reach.TOWN_MINUTES, reach.PASTORAL_MINUTES)  # served from the cache to every role
ISO_COMPUTE_ROLES = frozenset({"admin", "dispatcher", "analyst"})  # may ask for other values
ISO_BUILDS_PER_MINUTE = 6
ISO_WAIT_S = 10.0


def create_blueprint(rate_limit: int = 120, window_s: float = 60.0) -> Blueprint:
    """The routing blueprint (mounted under /api/v1 beside the field-app API)."""
    bp = Blueprint("api_routing", __name__, url_prefix="/api/v1")
    limiter = RateLimiter(rate_limit, window_s)  # routes cost more than reads: a tighter budget
    iso_budget = RateLimiter(ISO_BUILDS_PER_MINUTE, 60.0)  # unpublished isochrones per caller
    iso_builds = threading.BoundedSemaphore(1)  # per process

    bp.before_request(gate(limiter))

    def actor():
        return request.environ["onemap.actor"]

    @bp.get("/routes")
    def route():
        with pooled(_dsn()) as conn:
            return jsonify(routes.route_for(conn, actor(), request.args.get("from"), request.args.get("to")))

    @bp.get("/incidents/<uuid:incident_id>/route")
    def incident_route(incident_id):
        with pooled(_dsn()) as conn:
            return jsonify(routes.route_for(conn, actor(), request.args.get("from"), f"incident:{incident_id}"))

    @bp.get("/incidents/<uuid:incident_id>/responders")
    def responders(incident_id):
        limit = _int("limit", 10, 1, 100)
        with pooled(_dsn()) as conn:
            return jsonify(routes.responders(conn, actor(), incident_id, limit=limit))

    @bp.get("/isochrones")
    def isochrones():
        kind = _kind("police_station")
        minutes = _int("minutes", reach.TOWN_MINUTES, 1, 240)
        return _isochrone(actor(), kind, minutes)

    def _isochrone(who, kind: str, minutes: int):
        """Published values (10/30 min) from the cache for everyone; other values, and rebuilding
        a stale cache, only for roles that plan coverage, never read-only, within their budget."""
        computes = who.role in ISO_COMPUTE_ROLES and not who.read_only
        if minutes not in PUBLISHED_MINUTES and not computes:
            return error_body(403, "minutes_not_published",
                              f"only the published {' and '.join(map(str, PUBLISHED_MINUTES))}-minute reach "
                              f"is available to this account; other values are for {', '.join(sorted(ISO_COMPUTE_ROLES))}")
        if not computes:
            with pooled(_dsn()) as conn, conn.cursor() as cur:  # the cache only: no computation
                cur.execute(sql("iso_feature"), {"region": who.region_code, "kind": kind, "minutes": minutes,
                                                 "scope": who.unit_code})
                row = cur.fetchone()
            if row is None:
                return error_body(404, "not_built", f"the {minutes}-minute reach of {kind} is not built yet; an "
                                                    "administrator runs: onemap roads isochrones --refresh")
            return Response(row[0], mimetype="application/json")
        if minutes not in PUBLISHED_MINUTES and not iso_budget.allow(who.username):
            return error_body(429, "rate_limited", f"at most {iso_budget.limit} unpublished isochrones a minute")
        if not iso_builds.acquire(timeout=ISO_WAIT_S):  # builds take about a second each: one at a time
            response = error_body(503, "busy", "another isochrone is being built; try again shortly")
            response.headers["Retry-After"] = "5"
            return response
        try:
            with writer(_dsn()) as conn:  # a stale cache is rebuilt on read
                return jsonify(reach.isochrone_feature(conn, who, kind, minutes))
        finally:
            iso_builds.release()

    @bp.get("/coverage")
    def coverage():
        kind = _kind()
        with writer(_dsn()) as conn:
            return jsonify(reach.coverage(conn, actor(), kind))

    @bp.get("/coverage/gaps")
    def coverage_gaps():
        kind = _kind()
        with writer(_dsn()) as conn:
            return jsonify(reach.coverage_gaps(conn, actor(), kind))

    @bp.get("/coverage/suggest")
    def coverage_suggest():
        kind = _kind()
        minutes = _int("minutes", None, 1, 240)
        picks = _int("picks", 1, 1, 5)
        with writer(_dsn()) as conn:
            return jsonify(reach.suggest(conn, actor(), kind, minutes=minutes, picks=picks))

    return bp
