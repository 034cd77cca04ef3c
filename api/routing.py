"""Routing and service reach under /api/v1: routes, dispatch suggestions, isochrones, coverage.

Views only adapt HTTP to ``data.routing``; jurisdiction is the caller's unit (incidents through
``data.incidents.get``, areas clipped or filtered to the unit's subtree).
"""
from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, request

from api import models as m
from api.openapi import documented
from api.v1 import RateLimiter, gate
from data.routing import reach, suggestion
from data.routing import route as routes
from db.core import pooled, sql, writer
from web.errors import error_body
from web.params import parse_query


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


PUBLISHED_MINUTES = (reach.TOWN_MINUTES, reach.PASTORAL_MINUTES)  # served from the cache to every role
ISO_COMPUTE_ROLES = frozenset({"admin", "dispatcher", "analyst"})  # may ask for other values
ISO_BUILDS_PER_MINUTE = 6
ISO_WAIT_S = 10.0


def _isochrone(who, kind: str, minutes: int, budget: RateLimiter, builds: threading.BoundedSemaphore):
    """Published values (10/30 min) from the cache for everyone; other values, and rebuilding
    a stale cache, only for roles that plan coverage, never read-only, within their budget."""
    computes = who.role in ISO_COMPUTE_ROLES and not who.read_only
    if minutes not in PUBLISHED_MINUTES and not computes:
        published, planners = " and ".join(map(str, PUBLISHED_MINUTES)), ", ".join(sorted(ISO_COMPUTE_ROLES))
        return error_body(403, "minutes_not_published", f"only the published {published}-minute reach is "
                                                         f"available to this account; other values are for {planners}")
    if not computes:
        with pooled(_dsn()) as conn, conn.cursor() as cur:  # the cache only: no computation
            cur.execute(sql("iso_feature"), {"region": who.region_code, "kind": kind, "minutes": minutes,
                                             "scope": who.unit_code})
            row = cur.fetchone()
        if row is None:
            return error_body(404, "not_built", f"the {minutes}-minute reach of {kind} is not built yet; an "
                                                "administrator runs: onemap roads isochrones --refresh")
        return Response(row[0], mimetype="application/json")
    if minutes not in PUBLISHED_MINUTES and not budget.allow(who.username):
        return error_body(429, "rate_limited", f"at most {budget.limit} unpublished isochrones a minute")
    if not builds.acquire(timeout=ISO_WAIT_S):  # builds take about a second each: one at a time
        response = error_body(503, "busy", "another isochrone is being built; try again shortly")
        response.headers["Retry-After"] = "5"
        return response
    try:
        with writer(_dsn()) as conn:  # a stale cache is rebuilt on read
            return jsonify(reach.isochrone_feature(conn, who, kind, minutes))
    finally:
        builds.release()


def _actor():
    return request.environ["onemap.actor"]


@documented(query=m.RouteQuery, ok=(200, m.Feature), errors=(401, 404, 422, 429))
def route():
    """Road route between two ends, both snapped mid-edge; a Chinese turn list."""
    q = parse_query(m.RouteQuery)
    with pooled(_dsn()) as conn:
        return jsonify(routes.route_for(conn, _actor(), q.origin, q.to))


@documented(query=m.FromQuery, ok=(200, m.Feature), errors=(401, 404, 422, 429))
def incident_route(incident_id):
    """Route from a responder to the incident."""
    q = parse_query(m.FromQuery)
    with pooled(_dsn()) as conn:
        return jsonify(routes.route_for(conn, _actor(), q.origin, f"incident:{incident_id}"))


@documented(query=m.RespondersQuery, ok=(200, m.Responders), errors=(401, 404, 422, 429))
def responders(incident_id):
    """Candidate responders ranked by travel time (a dispatch suggestion)."""
    q = parse_query(m.RespondersQuery)
    with pooled(_dsn()) as conn:
        return jsonify(routes.responders(conn, _actor(), incident_id, limit=q.limit))


@documented(query=m.KindQuery, ok=(200, m.Coverage), errors=(401, 422, 429))
def coverage():
    """Share of residents inside the 10-minute (town) or 30-minute (pastoral) circle, per cell."""
    q = parse_query(m.KindQuery)
    with writer(_dsn()) as conn:
        return jsonify(reach.coverage(conn, _actor(), q.kind))


@documented(query=m.KindQuery, ok=(200, m.FeatureCollection), errors=(401, 422, 429))
def coverage_gaps():
    """Cells short of coverage, as GeoJSON."""
    q = parse_query(m.KindQuery)
    with writer(_dsn()) as conn:
        return jsonify(reach.coverage_gaps(conn, _actor(), q.kind))


@documented(query=m.SuggestQuery, ok=(200, m.Suggestion), errors=(401, 403, 422, 429))
def coverage_suggest():
    """Where one more station would close the most gap (one pick: the map's cached answer)."""
    q = parse_query(m.SuggestQuery)
    with writer(_dsn()) as conn:
        if q.picks == 1:
            return jsonify(suggestion.current(conn, _actor(), q.kind, minutes=q.minutes))
        return jsonify(reach.suggest(conn, _actor(), q.kind, minutes=q.minutes, picks=q.picks))


def create_blueprint(rate_limit: int = 120, window_s: float = 60.0) -> Blueprint:
    """The routing blueprint (mounted under /api/v1 beside the field-app API)."""
    bp = Blueprint("api_routing", __name__, url_prefix="/api/v1")
    limiter = RateLimiter(rate_limit, window_s)  # routes cost more than reads: a tighter budget
    iso_budget = RateLimiter(ISO_BUILDS_PER_MINUTE, 60.0)  # unpublished isochrones per caller
    iso_builds = threading.BoundedSemaphore(1)  # per process

    bp.before_request(gate(limiter))
    bp.add_url_rule("/routes", view_func=route, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/route", view_func=incident_route, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/responders", view_func=responders, methods=["GET"])

    @bp.get("/isochrones")
    @documented(query=m.IsochroneQuery, ok=(200, m.Feature), errors=(401, 403, 404, 422, 429, 503))
    def isochrones():
        """The area reachable within N minutes from every facility of a kind."""
        q = parse_query(m.IsochroneQuery)
        return _isochrone(_actor(), q.kind, q.minutes, iso_budget, iso_builds)

    bp.add_url_rule("/coverage", view_func=coverage, methods=["GET"])
    bp.add_url_rule("/coverage/gaps", view_func=coverage_gaps, methods=["GET"])
    bp.add_url_rule("/coverage/suggest", view_func=coverage_suggest, methods=["GET"])
    return bp
