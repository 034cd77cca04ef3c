"""The field app's own API: sign-in for a phone (a field token), sign-out, the visit log, the week.

``POST /api/v1/field/login`` takes a username and password through the same throttled, audited
check as the login form (``web.auth.password_actor``) and answers a bearer token named ``field``
with an expiry (``data.field_tokens``); ``POST /api/v1/field/logout`` revokes it. Everything else
needs that token (or a session) through the same gate as ``/api/v1``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from pydantic import Field

from api.models import Body, Out
from api.openapi import documented
from api.v1 import RateLimiter, gate
from config import Settings
from data import field_tokens, visits
from data.audit import audit
from data.users import AccountDisabled, AccountLocked, BadCredentials
from db.core import pooled, writer
from domain import values
from web.auth import client_address, current_actor, password_actor, throttled_response
from web.errors import error_body, json_body

FIELD_ROLES = ("worker", "department", "admin")
BODY_MAX = 64 * 1024


class FieldLoginIn(Body):
    """A phone signs in with the account's username and password."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class FieldToken(Out):
    """The phone's bearer token (shown once) and who it belongs to."""

    token: str
    expires_days: int
    username: str
    role: str
    unit_code: str


class LogoutIn(Body):
    """No fields: the token to end is the one in the Authorization header."""


class Ended(Out):
    """Whether a live token was revoked."""

    revoked: bool


class VisitIn(Body):
    """A visit (日走访), idempotent on the phone's ``id``."""

    id: str = Field(description="a UUID made by the phone; the idempotency key", json_schema_extra={"format": "uuid"})
    kind: str = Field("household", description="household or place")
    place: str = Field(max_length=visits.PLACE_MAX, description="the household or place visited")
    note: str = Field("", max_length=visits.NOTE_MAX)
    visited_at: datetime
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class Visit(Out):
    """A stored visit."""

    id: str
    kind: str
    place: str


class VisitList(Out):
    """The caller's visits of the last seven days, newest first."""

    items: list[Visit]


class FieldCategory(Out):
    """A category and the department that handles it."""

    code: str
    name: str
    department_name: str | None = None


class Week(Out):
    """The caller's last seven days."""

    since: str
    cells_covered: int
    reports: int
    visits: int


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


def _sign_in():
    """Check the password (throttled, audited) and issue a field token."""
    data, refused = json_body(BODY_MAX)
    if refused is not None:
        return refused
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
            or not isinstance(data.get("password"), str):
        return error_body(422, "invalid", "send {\"username\": …, \"password\": …}",
                          {"username": "required text", "password": "required text"})
    try:  # the one text rule (domain.values): no control characters, bounded
        values.clean_text(data["username"], 64)
        values.clean_text(data["password"], 256)
    except ValueError as exc:
        return error_body(422, "invalid", f"username or password: {exc}")
    with writer(_dsn()) as conn:
        try:
            actor = password_actor(conn, data["username"], data["password"], "form")
        except AccountLocked as exc:
            conn.commit()
            return throttled_response(exc)
        except AccountDisabled:
            conn.commit()  # audited
            return error_body(403, "disabled", "this account is disabled; ask your administrator")
        except BadCredentials:
            conn.commit()  # audited and counted for throttling
            return error_body(401, "bad_credentials", "wrong username or password")
        if actor.role not in FIELD_ROLES:
            conn.commit()
            return error_body(403, "not_a_field_role",
                              f"the field app is for grid workers and department staff; role {actor.role!r} "
                              "uses the command map at /")
        token = field_tokens.issue(conn, actor.username)
        audit(conn, actor, "login", "app_user", actor.user_id, {"ip": client_address(), "via": "field"})
        conn.commit()
    return jsonify({"token": token, "expires_days": field_tokens.DAYS, "username": actor.username,
                    "role": actor.role, "unit_code": actor.unit_code,
                    "display_name": actor.display_name, "department_code": actor.department_code,
                    "worker_id": actor.worker_id})


def create_blueprint(window_s: float = 60.0) -> Blueprint:
    """The field app's routes under /api/v1 (same gate and rate limit as /api/v1)."""
    bp = Blueprint("api_field", __name__, url_prefix="/api/v1")
    bp.before_request(gate(RateLimiter(Settings().api_rate, window_s), frozenset({"api_field.login"})))

    @bp.post("/field/login")
    @documented(json=FieldLoginIn, ok=(200, FieldToken), errors=(400, 401, 403, 422, 429))
    def login():
        """Sign a phone in: a field token (expires in 30 days; sign-out, passwd and disable end it)."""
        return _sign_in()

    @bp.post("/field/logout")
    @documented(json=LogoutIn, ok=(200, Ended), errors=(400, 401, 429))
    def logout():
        """Sign the phone out: its field token is revoked at once."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_body(400, "no_token", "send the field token as 'Authorization: Bearer <token>'")
        actor = current_actor()
        with writer(_dsn()) as conn:
            revoked = field_tokens.revoke(conn, token.strip())
            if revoked:
                audit(conn, actor, "logout", "app_user", actor.user_id, {"ip": client_address(), "via": "field"})
            conn.commit()
        return jsonify({"revoked": revoked})

    @bp.post("/visits")
    @documented(json=VisitIn, ok=(201, Visit), HTTP_200=(Visit, "a retry of a stored visit"),
                errors=(400, 401, 403, 409, 413, 422, 429))
    def add_visit():
        """Log a visit to a household or place (idempotent on the phone's UUID)."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        visit = visits.validate(data, datetime.now(timezone.utc))
        with writer(_dsn()) as conn:
            item, created = visits.record(conn, request.environ["onemap.actor"], visit)
        return jsonify(item), (201 if created else 200)

    @bp.get("/visits")
    @documented(ok=(200, VisitList), errors=(401, 429))
    def list_visits():
        """Your visits of the last seven days, newest first."""
        with pooled(_dsn()) as conn:
            return jsonify({"items": visits.recent(conn, request.environ["onemap.actor"])})

    @bp.get("/field/categories")
    @documented(ok=(200, list[FieldCategory]), errors=(401, 429))
    def categories():
        """Incident categories, each with the department of your region it goes to."""
        with pooled(_dsn()) as conn:
            return jsonify(visits.categories(conn, request.environ["onemap.actor"]))

    @bp.get("/field/cells")
    @documented(errors=(401, 429))
    def cells():
        """Grid cell outlines for the phone map: a worker's cell and its neighbours, else the jurisdiction's."""
        with pooled(_dsn()) as conn:
            return jsonify(visits.cells(conn, request.environ["onemap.actor"]))

    @bp.get("/field/week")
    @documented(ok=(200, Week), errors=(401, 429))
    def week():
        """Your week: cells your GPS covered, incidents you reported, visits you logged."""
        with pooled(_dsn()) as conn:
            return jsonify(visits.week(conn, request.environ["onemap.actor"]))

    return bp
