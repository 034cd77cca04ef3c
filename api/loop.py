"""The loop's end at /api/v1 (issue 16): duplicate suggestions and merges, return visits and
satisfaction, mediation cases, and bulletins (generate, list, download). Views only adapt HTTP
to ``data.evaluation``, ``data.mediation`` and ``exports.bulletin``; the rules live there."""
from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from flask import Blueprint, current_app, jsonify, send_file

import exports.bulletin as bl
from api import loop_models as lm
from api.openapi import documented
from api.v1 import RateLimiter, _actor, _body, gate
from config import Settings
from data import bulletins, evaluation, mediation
from data.incidents import Invalid
from db.core import pooled, writer
from domain import policy
from layers.base import LayerError
from web.errors import error_body
from web.params import parse, parse_query


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


def _object() -> dict:
    body = _body()
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


@documented(query=lm.DuplicateQuery, ok=(200, lm.Duplicates), errors=(401, 422, 429))
def duplicates():
    """Open incidents near a point of the same or a related category (ask before reporting)."""
    q = parse_query(lm.DuplicateQuery)
    with pooled(_dsn()) as conn:
        items = evaluation.duplicates(conn, _actor(), q.category, q.lon, q.lat, radius_m=q.radius_m, hours=q.hours)
    return jsonify({"items": items})


@documented(json=lm.MergeIn, ok=(200, lm.ReportOut), errors=(400, 401, 403, 404, 409, 422, 429))
def merge(incident_id: UUID):
    """Merge this incident (an open duplicate) into another: closed with a link, both timelines kept."""
    body = _object()
    with writer(_dsn()) as conn:
        return jsonify(evaluation.merge(conn, _actor(), incident_id, body.get("into"), body.get("note")))


@documented(json=lm.VisitIn, ok=(200, lm.ReportOut), errors=(400, 401, 403, 404, 409, 422, 429))
def return_visit(incident_id: UUID):
    """Record the return visit of a resolved case; ``reopen`` with ``unsatisfied`` reopens it."""
    body = _object()
    with writer(_dsn()) as conn:
        return jsonify(evaluation.return_visit(conn, _actor(), incident_id, str(body.get("outcome")), body.get("note"),
                                               body.get("reopen", False)))


@documented(query=lm.VisitDueQuery, ok=(200, lm.VisitDue), errors=(401, 403, 422, 429))
def visits_due():
    """Resolved cases waiting for their return visit (a grid worker: the ones they reported)."""
    q = parse_query(lm.VisitDueQuery)
    with pooled(_dsn()) as conn:
        return jsonify({"items": evaluation.due_visits(conn, _actor(), days=q.days, limit=q.limit)})


@documented(ok=(200, lm.MediationCase), errors=(401, 404, 429))
def mediation_get(incident_id: UUID):
    """The mediation case of an incident."""
    with pooled(_dsn()) as conn:
        return jsonify(mediation.case(conn, _actor(), incident_id))


@documented(json=lm.MediationIn, ok=(201, lm.MediationCase), errors=(400, 401, 403, 404, 409, 422, 429))
def mediation_open(incident_id: UUID):
    """Accept a dispute as a mediation case (the "1433" process)."""
    body = _object()
    with writer(_dsn()) as conn:
        return jsonify(mediation.accept(conn, _actor(), incident_id, str(body.get("kind")))), 201


@documented(json=lm.MediationStepIn, ok=(200, lm.MediationCase), errors=(400, 401, 403, 404, 409, 422, 429))
def mediation_step(incident_id: UUID):
    """The case's next step: assign, mediate, agree, refer, then visit."""
    body = _object()
    with writer(_dsn()) as conn:
        if body.get("step") == "visit":
            return jsonify(mediation.visit(conn, _actor(), incident_id, str(body.get("outcome")), body.get("note")))
        return jsonify(mediation.step(conn, _actor(), incident_id, str(body.get("step")),
                                      station_id=body.get("station_id"), team=body.get("team"),
                                      text=body.get("text")))


def _bulletin_out(row: dict) -> dict:
    out = {k: (str(v) if k == "id" else v) for k, v in row.items()}
    out["url"] = f"/api/v1/bulletins/{out['id']}/file"
    return out


def _bulletin_scope() -> str:
    actor = _actor()
    if actor.role not in bl.ROLES:
        raise bl.Outside(f"role {actor.role} does not read bulletins")
    return policy.Caller.of(actor).unit_code


@documented(query=lm.BulletinListQuery, ok=(200, lm.Bulletins), errors=(401, 403, 422, 429))
def bulletin_list():
    """Kept bulletins of the units in your jurisdiction, newest first."""
    q = parse_query(lm.BulletinListQuery)
    scope = _bulletin_scope()
    rows = bulletins.listing(_dsn(), _actor().region_code, scope, unit=q.unit, period=q.period, limit=q.limit)
    return jsonify({"items": [_bulletin_out(r) for r in rows]})


@documented(json=lm.BulletinIn, ok=(201, lm.Bulletin), errors=(400, 401, 403, 422, 429))
def bulletin_make():
    """Generate a weekly or monthly bulletin of a unit now (kept, listed, audited)."""
    body = parse(lm.BulletinIn, _object())
    row = bl.generate(_dsn(), _actor(), body.unit, body.period, body.format, body.lang,
                      now=datetime.now(timezone.utc))
    return jsonify(_bulletin_out(row)), 201


@documented(errors=(401, 403, 404, 429))
def bulletin_file(bulletin_id: UUID):
    """The file of a kept bulletin of a unit in your jurisdiction."""
    row = bulletins.get(_dsn(), _actor().region_code, _bulletin_scope(), str(bulletin_id))
    path = bl.file_path(row) if row else None
    if path is None or not path.is_file():
        return error_body(404, "not_found", "no kept bulletin with that id in your jurisdiction")
    return send_file(path, as_attachment=True, download_name=path.name)


def create_blueprint(rate_limit: int | None = None, window_s: float = 60.0) -> Blueprint:
    """The loop's routes under /api/v1 (their own blueprint; the same gate as ``api.v1``)."""
    bp = Blueprint("api_v1_loop", __name__, url_prefix="/api/v1")
    limiter = RateLimiter(rate_limit or Settings().api_rate, window_s)
    bp.before_request(gate(limiter))

    @bp.errorhandler(LayerError)
    def layer_error(exc: LayerError):
        return error_body(exc.status, type(exc).__name__, str(exc))

    bp.add_url_rule("/incidents/duplicates", view_func=duplicates, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/merge", view_func=merge, methods=["POST"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/return-visit", view_func=return_visit, methods=["POST"])
    bp.add_url_rule("/return-visits/due", view_func=visits_due, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/mediation", view_func=mediation_get, methods=["GET"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/mediation", view_func=mediation_open, methods=["POST"])
    bp.add_url_rule("/incidents/<uuid:incident_id>/mediation/steps", view_func=mediation_step, methods=["POST"])
    bp.add_url_rule("/bulletins", view_func=bulletin_list, methods=["GET"])
    bp.add_url_rule("/bulletins", view_func=bulletin_make, methods=["POST"])
    bp.add_url_rule("/bulletins/<uuid:bulletin_id>/file", view_func=bulletin_file, methods=["GET"])
    return bp
