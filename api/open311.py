"""Open311 GeoReport v2 at /open311/v2: discovery, services, requests (read and post), JSON and XML.

Services are our incident categories; requests are our incidents, created through
``data.incidents`` (source ``open311``) so every rule of the closed loop applies to them.

Deviations from a public Open311 server, on purpose:

* Reading requests needs an API key (``api_key`` in the query string, or
  ``Authorization: Bearer``): incidents hold residents' disputes and addresses, so nothing is
  public, and each key sees only its account's jurisdiction (401 without one). Discovery and the
  service list stay public. The key is a OneMap API token (``onemap users token USERNAME``);
  posting needs a role that may report (worker, dispatcher, admin) and a token that is not
  read-only (403 otherwise). A session cookie is never read here: /open311/ is exempt from CSRF
  checks, so accepting cookies would let any web page post in a logged-in user's name.
* Requests need ``lat``/``long`` (WGS84): we do not geocode ``address_string`` or ``address_id``.
* Personal fields (email, first_name, last_name, phone, device_id, account_id) are accepted and
  not stored: the caller is a staff account already known by its key, and the minimum-necessary
  rule of PIPL says keep no more. ``media_url`` and ``address_string`` go on the timeline as a note.
* Retries: send ``attribute[client_uuid]`` (or an ``Idempotency-Key`` header); the same key from the
  same account with the same fields returns the first request (200), with other fields 422.
  Without a key every POST is a new request.
* Time ranges longer than 90 days are refused (400) rather than silently cut; at most 1000
  requests (newest first) are returned, with ``X-Open311-Truncated: true`` when more matched.
* Extension fields on each request: ``grid_code``, ``handling_level``, ``due_at``, ``overdue``.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from api import open311_params as p
from api import open311_render as render
from api.open311_params import Open311Error
from data import evaluation, incidents
from data.policy import request_out
from data.stats import region_timezone_of
from data.users import AccountLocked, BadCredentials
from db.core import dict_cursor, pooled, sql, writer
from domain import policy
from i18n import gettext
from web.auth import token_actor
from web.params import public_url

log = logging.getLogger("onemap.open311")
CHANGESET = "2026-11-28T00:00:00+08:00"  # when this API's behaviour last changed (discovery)
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
LIMIT = 1000
PREFIX = "/open311/v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
_KNOWN_PATH = re.compile(r"^(discovery|services|requests)(/[^/]+)?\.(json|xml)$")


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in FORMATS else "json"


def _lang() -> str:
    """``?locale=en`` (or ``zh``), else the Accept-Language header; Chinese by default."""
    wanted = (request.args.get("locale") or "").lower()
    if wanted:
        return "en" if wanted.startswith("en") else "zh"
    return "en" if request.accept_languages.best_match(["zh", "en"], default="zh") == "en" else "zh"


def _respond(root: str, value, status: int = 200, headers: dict | None = None) -> Response:
    fmt = _fmt()
    if fmt == "xml":
        response = Response(render.to_xml(root, value), status=status, mimetype=FORMATS["xml"])
    else:
        response = jsonify(value)
        response.status_code = status
    response.headers.extend(headers or {})
    return response


def _error(exc: Open311Error) -> Response:
    response = _respond("errors", render.errors(exc.status, exc.descriptions), exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="onemap-open311"'
    return response


def _body() -> dict:
    """The POST fields: a JSON object, or form fields (urlencoded or multipart)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Open311Error(400, "the body is not a JSON object")
        return body
    return request.form.to_dict()


def _actor(body: dict | None = None):
    """The account behind the API key (body, query string or bearer header); 401 without one."""
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    token = ((body or {}).get("api_key") or request.args.get("api_key")
             or (bearer.strip() if scheme.lower() == "bearer" else None))
    if not token or not isinstance(token, str):
        raise Open311Error(401, "an api_key is required: our requests are not public. Ask an "
                                "administrator for an API token (onemap users token USERNAME).")
    with writer(_dsn()) as conn:
        try:
            actor = token_actor(conn, token, "api_key")
        except AccountLocked:
            raise Open311Error(429, "too many failed logins from your address; try again later") from None
        except BadCredentials:
            conn.commit()  # the failure's audit record and throttling count
            raise Open311Error(401, "the api_key is invalid, expired or revoked") from None
        conn.commit()  # the token's last_used_at
    jurisdiction = (body or {}).get("jurisdiction_id") or request.args.get("jurisdiction_id")
    if jurisdiction and jurisdiction != actor.region_code:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction} was not found for this api_key "
                                f"(yours is {actor.region_code})")
    return actor


def _services(conn, code: str | None = None) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(sql("open311_services"), {"code": code})
        return cur.fetchall()


def _requests(conn, actor, *, scope: str | None = None, ids=None, categories=None, start=None,
              end=None, closed=None, limit: int = LIMIT, shown: bool = True) -> list[dict]:
    bind = policy.row_params(actor)  # the row rule every surface applies
    with dict_cursor(conn) as cur:
        cur.execute(sql("open311_requests"), {
            **bind, "scope": scope or bind["scope"],
            "ids": ids, "categories": categories, "start": start, "end": end, "closed": closed,
            "limit": limit, "now": datetime.now(timezone.utc)})
        rows = cur.fetchall()
    # what leaves the server is masked as on every surface (``shown=False``: read for a notice only)
    return [request_out(actor, r) for r in rows] if shown else rows


def domain_error(exc: incidents.IncidentError):
    """Domain refusals (422 outside the county, 403 …) as the spec's error list."""
    if isinstance(exc, Open311Error):
        return _error(exc)
    details = [f"{k}: {v}" for k, v in exc.fields.items() if k not in ("lon", "lat")]
    return _error(Open311Error(exc.status, exc.message, *details))

def http_error(exc: HTTPException):
    """HTTP-level errors (413 body too large …) as the spec's error list."""
    message = "the request body is too large" if exc.code == 413 else (exc.description or exc.name)
    return _error(Open311Error(exc.code or 400, message))

def unexpected(exc: Exception):
    """A bug: logged, and a 500 in the spec's format."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error(Open311Error(500, "the server failed; the error is logged, try again later"))

def discovery(fmt):
    """Where the endpoint is, its formats, and how to get an API key."""
    _check_format(fmt)
    base = public_url(PREFIX)  # the configured base URL, never the Host header
    return _respond("discovery", {
        "changeset": CHANGESET,
        "contact": "OneMap 社会治理指挥中心 / OneMap command centre (see /api/v1/openapi.json)",
        "key_service": "api_key is a OneMap API token: an administrator issues it with "
                       "`onemap users token USERNAME`. Every requests call needs one.",
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": CHANGESET,
                       "type": "production", "formats": list(FORMATS.values())}],
    })

def services(fmt):
    """Every incident category as a service (public: categories are no secret)."""
    _check_format(fmt)
    lang = _lang()
    with pooled(_dsn()) as conn:
        rows = _services(conn)
    return _respond("services", [render.service(r, lang) for r in rows])

def service_definition(code, fmt):
    """A service's definition: we ask for no extra attributes."""
    _check_format(fmt)
    with pooled(_dsn()) as conn:
        if not _services(conn, code):
            raise Open311Error(404, f"service_code {code!r} was not found; see services.{fmt}")
    return _respond("service_definition", {"service_code": code, "attributes": []})

def list_requests(fmt):
    """Requests in the key's jurisdiction, filtered as the spec says."""
    _check_format(fmt)
    actor = _actor()
    args = request.args
    ids = p.request_ids(args.get("service_request_id"))
    closed = p.statuses(args.get("status"))
    categories = p.comma_list(args.get("service_code"))
    with pooled(_dsn()) as conn:
        if categories:
            known = {r["code"] for r in _services(conn)}
            unknown = [c for c in categories if c not in known]
            if unknown:
                raise Open311Error(400, f"service_code: unknown {', '.join(unknown)}; see services.{fmt}")
        if ids:  # the spec: a list of ids overrides every other filter
            rows = _requests(conn, actor, ids=ids)
        else:
            tz = region_timezone_of(conn, actor.region_code)
            start, end = p.date_window(args.get("start_date"), args.get("end_date"),
                                       datetime.now(timezone.utc), tz)
            rows = _requests(conn, actor, categories=categories, start=start, end=end,
                             closed=closed, limit=LIMIT + 1, shown=False)
            rows = [request_out(actor, r) for r in rows[:LIMIT]] + rows[LIMIT:]  # the extra one is not shown
    lang = _lang()
    headers = {"X-Open311-Truncated": "true"} if len(rows) > LIMIT else {}
    return _respond("service_requests", [render.request(r, lang) for r in rows[:LIMIT]],
                    headers=headers)

def get_request(rid, fmt):
    """One request, as a list of one (the spec's shape)."""
    _check_format(fmt)
    actor = _actor()
    rows = []
    if p.is_uuid(rid):
        with pooled(_dsn()) as conn:
            rows = _requests(conn, actor, ids=[rid], limit=1)
    if not rows:
        raise Open311Error(404, f"service_request_id {rid} was not found in your jurisdiction")
    return _respond("service_requests", [render.request(rows[0], _lang())])

def post_request(fmt):
    """Create a request (an incident reported through Open311)."""
    _check_format(fmt)
    body = _body()
    actor = _actor(body)
    if actor.read_only:
        raise Open311Error(403, "this api_key is read-only")
    if actor.role not in incidents.REPORT_ROLES:
        raise Open311Error(403, f"role {actor.role} may not report incidents "
                                f"(only {', '.join(sorted(incidents.REPORT_ROLES))})")
    item_id, created, notice = _create(actor, body)
    return _respond("service_requests", [{"service_request_id": item_id, "service_notice": notice,
                                          "account_id": None}], 201 if created else 200)

def fallback(rest):
    """Any other path or method under /open311/v2: the spec's error list, not an HTML page."""
    if _KNOWN_PATH.match(rest):
        raise Open311Error(405, f"{request.method} is not supported on {rest}")
    raise Open311Error(404, f"no such Open311 endpoint {rest!r}; see discovery.json")


def create_blueprint() -> Blueprint:
    """The /open311/v2 blueprint, with errors in the spec's list format."""
    bp = Blueprint("open311", __name__, url_prefix=PREFIX)
    bp.register_error_handler(incidents.IncidentError, domain_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, unexpected)
    bp.add_url_rule("/discovery.<fmt>", view_func=discovery, methods=["GET"])
    bp.add_url_rule("/services.<fmt>", view_func=services, methods=["GET"])
    bp.add_url_rule("/services/<code>.<fmt>", view_func=service_definition, methods=["GET"])
    bp.add_url_rule("/requests.<fmt>", view_func=list_requests, methods=["GET"])
    bp.add_url_rule("/requests/<rid>.<fmt>", view_func=get_request, methods=["GET"])
    bp.add_url_rule("/requests.<fmt>", view_func=post_request, methods=["POST"])
    bp.add_url_rule("/<path:rest>", view_func=fallback, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    bp.add_url_rule("/", view_func=fallback, defaults={"rest": ""},
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    return bp


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, f"format {fmt!r} is not served; use .json or .xml")


def _create(actor, body: dict) -> tuple[str, bool, str | None]:
    """Validate a POST, store it through ``data.incidents.report``; (id, created, service_notice)."""
    errors: list[str] = []
    code = p.text(body, "service_code", errors, 100)
    if code is None and not any("service_code" in e for e in errors):
        errors.append("service_code: required; see services.json")
    lat = p.coordinate(body, "lat", -90, 90, errors)
    lon = p.coordinate(body, "long", -180, 180, errors)
    description = p.text(body, "description", errors, incidents.DESCRIPTION_MAX) or ""
    media = p.media_url(body, errors)
    address_string = p.text(body, "address_string", errors, p.ADDRESS_MAX)
    key = p.idempotency_key(body, request.headers.get("Idempotency-Key"), errors)
    for field in PERSONAL_FIELDS:  # type-checked so that garbage is refused, then dropped
        p.text(body, field, errors, 500)
    if errors:
        raise Open311Error(400, *errors)
    rid = p.request_id_for(actor.user_id, key)
    now = datetime.now(timezone.utc)
    with writer(_dsn()) as conn:
        if not _services(conn, code):
            raise Open311Error(404, f"service_code {code!r} was not found; see services.json")
        item, created = _report(conn, actor, rid, key, code, description, lon, lat, now)
        note = "\n".join(line for line in (f"media_url: {media}" if media else None,
                                           f"address_string: {address_string}" if address_string else None)
                         if line)
        if note:
            with conn.cursor() as cur:
                cur.execute(sql("open311_note_insert"), {"id": str(rid), "now": now, "note": note,
                                                         "actor": f"{actor.role}:{actor.username}"})
            conn.commit()
        # the reporter may post outside their own cell (the point decides the cell), so read the
        # notice back within the region, as data.incidents.report does
        rows = _requests(conn, actor, scope=actor.region_code, ids=[str(rid)], limit=1, shown=False)
        dups = (evaluation.duplicates(conn, actor, str(code), lon, lat, now=now, exclude=rid)
                if created and lon is not None and lat is not None else [])
    notice = render.service_notice(rows[0], _lang()) if rows else None
    if dups:  # GeoReport v2 has no field for them: the notice says which open requests look the same
        seen = gettext(_lang(), "open311.duplicates", ids=", ".join(d["id"] for d in dups))
        notice = f"{notice} {seen}" if notice else seen
    return str(rid), created, notice


def _report(conn, actor, rid, key, code, description, lon, lat, now):
    """``incidents.report`` with a payload a retry reproduces exactly: Open311 has no observed
    time, so a keyed retry reuses the stored one (the report's fingerprint covers it)."""
    observed = _stored_observed(conn, rid) if key else None
    try:
        return _report_once(conn, actor, rid, code, description, lon, lat, observed or now, now)
    except incidents.Invalid as exc:
        if not key or "id" not in exc.fields:
            raise
        if observed is None:  # a concurrent first POST with this key won: use its time, once more
            observed = _stored_observed(conn, rid) or now
            try:
                return _report_once(conn, actor, rid, code, description, lon, lat, observed, now)
            except incidents.Invalid as again:
                if "id" not in again.fields:
                    raise
        raise Open311Error(422, "this idempotency key (attribute[client_uuid] or Idempotency-Key) was "
                                "already used for a different request; use a new key") from exc


def _stored_observed(conn, rid) -> datetime | None:
    with conn.cursor() as cur:
        cur.execute(sql("open311_observed_at"), {"id": str(rid)})
        row = cur.fetchone()
    return p.utc(row[0]) if row else None


def _report_once(conn, actor, rid, code, description, lon, lat, observed, now):
    rep = incidents.validate_report({"id": str(rid), "category": code, "description": description,
                                     "lon": lon, "lat": lat, "observed_at": observed.isoformat()},
                                    now, source="open311")
    return incidents.report(conn, actor, rep, now=now)
