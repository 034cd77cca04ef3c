"""Incidents through their closed loop: report, act, read, escalate — with roles and jurisdiction.

The database holds the rules (state machine, deadlines, escalation exactly once, grid cell); this
module validates input, checks who may do what where, and maps database refusals to domain errors
that know nothing of HTTP (``api`` maps them to status codes).

An *actor* is anything with ``username``, ``role``, ``unit_code`` (jurisdiction: a grid unit
code, whose subtree is every code it prefixes), ``region_code``, ``department_code`` and
``worker_id`` — ``data.users.Actor`` in practice.
"""
from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import psycopg2
from psycopg2.extras import execute_values

from data import photos
from data.policy import incident_out, incidents_out, may_see_photos
from db.core import dict_cursor, sql
from domain import phase, policy, values
from geo.datum import gcj02_to_wgs84

DESCRIPTION_MAX = 4000  # Open311's limit, and plenty for a field note
STATES = phase.STATES  # the state machine's states, defined once (domain/phase.py = 0010_phase.sql)
# Who may take each action (further narrowed below: departments act on their own cases, workers
# verify what they reported).
ACTION_ROLES = {
    "accept": {"admin", "dispatcher"},
    "reject": {"admin", "dispatcher"},
    "dispatch": {"admin", "dispatcher"},
    "escalate": {"admin", "dispatcher", "leader"},
    "start": {"admin", "dispatcher", "department", "worker"},
    "arrive": {"admin", "department", "worker"},
    "resolve": {"admin", "dispatcher", "department", "worker"},
    "verify": {"admin", "dispatcher", "worker"},
    "close": {"admin", "dispatcher"},
    "reopen": {"admin", "dispatcher", "leader"},
}
REPORT_ROLES = {"admin", "dispatcher", "worker"}
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
PHOTO_MAX_BYTES = photos.MAX_BYTES  # one upload
PHOTO_MAX_COUNT = 20                # photos per incident
PHOTO_MAX_TOTAL = 40 * 1024 * 1024  # bytes per incident, as stored (re-encoded)
OBSERVED_MAX_AGE = timedelta(days=366)  # an older "observed" time is a wrong clock, not a late upload
FIX_TOLERANCE_M = 2000                   # GPS fixes this far outside the region are refused
_SKEW = timedelta(minutes=10)  # phones' clocks run a little fast; more than this is an error


class IncidentError(Exception):
    """A refusal with a machine code, a message and optional per-field messages."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra


class Invalid(IncidentError):
    """The input is well-formed but wrong (unknown category, outside the county …)."""

    status, code = 422, "invalid"


class NotFound(IncidentError):
    """No such incident in the caller's jurisdiction."""

    status, code = 404, "not_found"


class Forbidden(IncidentError):
    """The caller's role may not do this."""

    status, code = 403, "forbidden"


class Conflict(IncidentError):
    """The action does not fit the incident's state; ``extra['allowed']`` lists what does."""

    status, code = 409, "illegal_transition"


class Stale(Conflict):
    """Someone changed the incident after the caller read it; ``extra`` holds what it is now."""

    code = "stale"


@dataclass(frozen=True)
class Report:
    """A validated report from the field app."""

    id: uuid.UUID
    category: str
    description: str
    lon: float
    lat: float
    observed_at: datetime
    source: str = "grid_worker"

    def fingerprint(self) -> str:
        """SHA-256 of the payload, to tell a retry from a different report under the same key."""
        body = json.dumps([str(self.id), self.category, self.description, round(self.lon, 7),
                           round(self.lat, 7), self.observed_at.isoformat(), self.source])
        return hashlib.sha256(body.encode()).hexdigest()


def _number(payload: dict, key: str, lo: float, hi: float, errors: dict) -> float | None:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors[key] = "required number" if value is None else "must be a number"
        return None
    if not math.isfinite(value) or not lo <= value <= hi:
        errors[key] = f"must be a finite number between {lo} and {hi}"
        return None
    return float(value)


def validate_point(payload: dict, errors: dict) -> tuple[float | None, float | None]:
    """``lon``/``lat`` of a payload as WGS84 numbers, with field errors added to ``errors``."""
    return _number(payload, "lon", -180, 180, errors), _number(payload, "lat", -90, 90, errors)


def parse_time(value, key: str, errors: dict, now: datetime | None = None) -> datetime | None:
    """An instant a phone saw: ISO 8601 with a zone (naive times and plain dates are refused: the
    phone's zone is unknown), by ``domain.values``' rule (years, offsets PostgreSQL accepts);
    with ``now``, also no more than ``OBSERVED_MAX_AGE`` before it and not after it (+ skew)."""
    if not isinstance(value, str):
        errors[key] = "required ISO 8601 time with zone" if value is None else "must be a string"
        return None
    if len(value.strip()) <= 10:
        errors[key] = "a date and time with a zone, e.g. 2026-06-01T08:00:00+08:00"
        return None
    try:
        t = values.parse_time(value, "UTC")
    except ValueError as exc:
        errors[key] = str(exc)
        return None
    if now is not None and t > now.astimezone(timezone.utc).replace(microsecond=0) + _SKEW:
        errors[key] = "is in the future (check the phone's clock)"
        return None
    if now is not None and t < now - OBSERVED_MAX_AGE:
        errors[key] = f"is more than {OBSERVED_MAX_AGE.days} days ago (check the phone's clock)"
        return None
    return t


def validate_report(payload, now: datetime, source: str = "grid_worker") -> Report:
    """A ``Report`` from a JSON body, or ``Invalid`` naming every bad field."""
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    try:
        rid = uuid.UUID(str(payload.get("id")))
    except ValueError:
        errors["id"] = "required UUID made by the client (the idempotency key)"
        rid = None
    if rid is not None and rid.int in (0, (1 << 128) - 1):
        errors["id"] = "the nil (all-zero) or max UUID is not an id; make a random (version 4) UUID per report"
        rid = None
    category = payload.get("category")
    if not isinstance(category, str) or not category:
        errors["category"] = "required category code"
    description = payload.get("description", "")
    if not isinstance(description, str):
        errors["description"] = "must be a string"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"at most {DESCRIPTION_MAX} characters"
    lon = _number(payload, "lon", -180, 180, errors)
    lat = _number(payload, "lat", -90, 90, errors)
    crs = payload.get("crs", "wgs84")
    if crs not in ("wgs84", "gcj02"):
        errors["crs"] = "must be 'wgs84' (default) or 'gcj02'"
    observed = parse_time(payload.get("observed_at"), "observed_at", errors, now)
    if errors:
        raise Invalid("the report has invalid fields", errors)
    # no errors: every field was read (the checks above set an error wherever one is missing)
    assert rid is not None and isinstance(category, str) and lon is not None and lat is not None
    assert observed is not None
    if crs == "gcj02":
        x, y = gcj02_to_wgs84(lon, lat)
        lon, lat = float(x), float(y)
    return Report(rid, category, description, lon, lat, observed, source)


def _scope(actor) -> str:
    return actor.unit_code


def _department(actor) -> str | None:
    return actor.department_code if actor.role == "department" else None


def report(conn, actor, rep: Report, now: datetime | None = None) -> tuple[dict, bool]:
    """Store a report (or recognise a retry); returns (incident, created). Commits.

    One round trip and one commit: ``incident_report`` (0011_report_path.sql) and the response
    query go to the server as one message, which PostgreSQL runs as one transaction."""
    now = now or datetime.now(timezone.utc)
    if actor.role not in REPORT_ROLES:
        raise Forbidden(f"role {actor.role} may not report incidents")
    if not actor.unit_code.startswith(actor.region_code):
        raise Forbidden("your jurisdiction is in another region")
    params = {"r_id": str(rep.id), "r_region": actor.region_code, "r_category": rep.category,
              "r_description": rep.description, "r_lon": rep.lon, "r_lat": rep.lat,
              "r_observed_at": rep.observed_at, "r_now": now, "r_reporter_id": actor.worker_id,
              "r_source": rep.source, "r_payload_sha256": rep.fingerprint(), "r_actor": _label(actor),
              **_fetch_bind(actor, rep.id, now, allow_outside=True)}
    autocommit = conn.autocommit
    if not autocommit:  # an autocommit connection (the API's) needs neither step, nor their round trips
        conn.commit()  # end whatever the caller read before (no round trip when nothing is open)
        conn.autocommit = True  # the message is its own transaction
    try:
        with conn.cursor() as cur:
            cur.execute(_report_message(), params)
            created, row = cur.fetchone()
    except psycopg2.Error as exc:
        if exc.pgcode == "OM422":
            raise _report_refusal(exc, rep, actor) from exc
        raise
    finally:
        if not autocommit:
            conn.autocommit = False
    if row is None:  # only if the incident vanished between the two statements (it cannot be deleted)
        raise NotFound(f"no incident {rep.id} in your region")
    # A new report's answer echoes what its sender just sent: nothing is revealed, so no audit row
    # (and no third transaction per report). A retry's answer is the stored record: audited as any read.
    return incident_out(actor, row, note=not created), created


def _report_message() -> str:
    """``incident_report.sql``, then ``incident_get.sql`` as the response with the created flag."""
    return (sql("incident_report").rstrip().rstrip(";") + ";\n"
            "SELECT current_setting('onemap.report_created')::boolean, (\n"
            + sql("incident_get").rstrip().rstrip(";") + "\n)")


def _report_refusal(exc: psycopg2.Error, rep: Report, actor) -> Invalid:
    """The domain error for ``incident_report``'s refusals (SQLSTATE OM422, field in COLUMN)."""
    field = exc.diag.column_name
    if field == "category":
        return Invalid("unknown category", {"category": f"unknown code {rep.category!r}; see /api/v1/categories"})
    if field == "lon":
        if exc.diag.message_detail is None:  # incident_report always names the distance
            raise exc
        outside_m = float(exc.diag.message_detail)
        return Invalid(f"the point is {outside_m / 1000:.1f} km outside region {actor.region_code}",
                       {"lon": "outside the county", "lat": "outside the county"},
                       outside_m=round(outside_m, 1))
    if field == "id":
        return Invalid("this id was already used for a different report",
                       {"id": "reused with a different payload; make a new UUID"})
    return Invalid(exc.diag.message_primary or "the report was refused", {field or "body": "refused"})


def _label(actor) -> str:
    return f"{actor.role}:{actor.username}"


def incident_key(incident_id) -> str:
    """``incident_id`` as the text of a UUID, or ``NotFound``: every function here that takes an id
    from a caller (API path, Dash callback, Open311) parses it before SQL sees it."""
    try:
        return str(uuid.UUID(str(incident_id)))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"no incident {str(incident_id)[:64]!r}") from None


def _fetch_bind(actor, incident_id, now: datetime, allow_outside: bool) -> dict:
    """The parameters of ``incident_get.sql`` for ``actor`` (``fetch`` and ``report`` share them)."""
    bind = policy.row_params(actor)
    if allow_outside:
        bind["scope"] = actor.region_code
    return {**bind, "id": incident_key(incident_id), "now": now}


def fetch(conn, actor, incident_id, now: datetime | None = None, allow_outside: bool = False) -> dict:
    """One incident with its timeline, unmasked, if the actor may see the row (``domain.policy``);
    else ``NotFound``. For internal use (routing to it, permission checks): what leaves the server
    goes through ``get``."""
    now = now or datetime.now(timezone.utc)
    with conn.cursor() as cur:
        cur.execute(sql("incident_get"), _fetch_bind(actor, incident_id, now, allow_outside))
        row = cur.fetchone()
    conn.rollback()  # end the read transaction; nothing to keep
    if row is None:
        raise NotFound(f"no incident {incident_id} in your jurisdiction")
    return row[0]


def get(conn, actor, incident_id, now: datetime | None = None, allow_outside: bool = False) -> dict:
    """One incident with its timeline as ``actor`` may see it (row rule and field masks of
    ``domain.policy``; the reveal noted for the request's audit row); else ``NotFound``."""
    raw = fetch(conn, actor, incident_id, now, allow_outside)
    item = incident_out(actor, raw)
    item["allowed_actions"] = allowed_actions(conn, actor, incident_id, raw.get("reporter_id"))
    item["version"] = len(raw.get("timeline") or [])  # what ``act(expected_version=…)`` compares
    return item


def allowed_actions(conn, actor, incident_id, reporter_id: int | None = None) -> list[str]:
    """The actions ``actor`` may take on the incident now: its role's (``ACTION_ROLES``, with the
    same narrowing as ``act``) that the database's transition table allows from its state."""
    if getattr(actor, "read_only", False):
        return []
    mine = [a for a, roles in ACTION_ROLES.items() if actor.role in roles
            and not (a == "verify" and actor.role == "worker" and reporter_id != actor.worker_id)]
    with conn.cursor() as cur:
        cur.execute(sql("incident_allowed_actions"), {"id": incident_key(incident_id), "actions": mine})
        found = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return found


def photo(conn, actor, incident_id, photo_id: int) -> tuple[str, bytes]:
    """An incident's photo (content type, bytes) if the actor sees the incident and its personal
    class (photos show residents and their homes); ``NotFound`` / ``Forbidden`` otherwise."""
    item = fetch(conn, actor, incident_id)
    if not may_see_photos(actor, item):
        raise Forbidden(f"role {actor.role} sees this incident without its photos (they are personal data)")
    with conn.cursor() as cur:
        cur.execute(sql("incident_photo_get"), {"id": photo_id, "incident_id": str(incident_id)})
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise NotFound(f"no photo {photo_id} on incident {incident_id}")
    policy.note_reveal(f"incident:{incident_id}", [f"photo:{photo_id}"], actor=actor)
    return row[0], bytes(row[1])


def list_incidents(conn, actor, *, states=None, categories=None, since=None, until=None, bbox=None,
                   unit=None, overdue=False, limit=50, offset=0, now=None, peek: bool = False) -> list[dict]:
    """A page of incidents the actor may see (narrowed to ``unit`` when given), masked for them."""
    now = now or datetime.now(timezone.utc)
    if unit and actor.unit_code.startswith(unit):
        unit = None  # a unit above the jurisdiction: all of the jurisdiction
    try:
        bind = policy.row_params(actor, unit)
    except policy.OutsideJurisdiction as exc:
        raise Forbidden(str(exc)) from None
    with conn.cursor() as cur:
        cur.execute(sql("incident_list"), {
            **bind, "states": list(phase.expand_states(states)) if states else None, "categories": categories,
            "since": since, "until": until, "bbox": bbox, "overdue": bool(overdue), "limit": limit, "offset": offset,
            "now": now})
        rows = [r[0] for r in cur.fetchall()]
    conn.rollback()
    # ``peek``: the last row only tells the caller there is a next page; it is not shown
    return incidents_out(actor, rows, shown=limit - 1 if peek else None)


def act(conn, actor, incident_id, action: str, *, note: str | None = None, lon: float | None = None,
        lat: float | None = None, department: str | None = None, now: datetime | None = None,
        expected_version: int | None = None) -> dict:
    """Apply ``action`` if the actor may, in the database's state machine; commits. With
    ``expected_version`` (the timeline length the caller saw, ``version`` of ``get``), refuse with
    ``Stale`` when the incident changed since: no silent overwrite of someone else's step."""
    now = now or datetime.now(timezone.utc)
    if action not in ACTION_ROLES:
        raise Invalid(f"unknown action {action!r}", {"action": f"one of {', '.join(sorted(ACTION_ROLES))}"})
    with conn.cursor() as cur:
        cur.execute(sql("incident_scope_of"), {"id": incident_key(incident_id)})
        row = cur.fetchone()
        if row is None or not policy.incident_visible(actor, row[0], row[1], row[2]):
            conn.rollback()
            raise NotFound(f"no incident {incident_id} in your jurisdiction")
        _, _dept, reporter_id, _state = row
        if actor.role not in ACTION_ROLES[action]:
            conn.rollback()
            raise Forbidden(f"role {actor.role} may not {action}")
        if action == "verify" and actor.role == "worker" and reporter_id != actor.worker_id:
            conn.rollback()
            raise Forbidden("a grid worker verifies only the incidents they reported")
        if expected_version is not None:
            _check_version(conn, cur, incident_id, expected_version)
        try:
            cur.execute(sql("incident_act"), {"id": str(incident_id), "action": action,
                                              "actor": _label(actor), "note": note, "lon": lon,
                                              "lat": lat, "department": department, "now": now})
        except psycopg2.Error as exc:
            conn.rollback()
            raise _refusal(exc) from exc
    conn.commit()
    return get(conn, actor, incident_id, now=now)


def _check_version(conn, cur, incident_id, expected: int) -> None:
    """Lock the incident and compare its timeline length with what the caller saw (``Stale`` if not)."""
    cur.execute(sql("incident_lock_version"), {"id": str(incident_id)})
    state, version = cur.fetchone()
    if version != expected:
        conn.rollback()
        raise Stale(f"incident {incident_id} was changed by someone else (now {state}); reload it",
                    state=state, version=version)


def _refusal(exc: psycopg2.Error) -> IncidentError:
    """Map the workflow functions' SQLSTATEs to domain errors."""
    message = exc.diag.message_primary or str(exc)
    if exc.pgcode == "OM409":
        allowed = [a for a in (exc.diag.message_detail or "").split(",") if a]
        return Conflict(message, allowed=allowed)
    if exc.pgcode == "OM404":
        return NotFound(message)
    if exc.pgcode == "OM422":
        return Invalid(message)
    raise exc


ESCALATE_BATCH = 200  # incidents per committed batch: row locks are held for one batch only
_RETRY = {"40P01", "40001"}  # deadlock_detected, serialization_failure: safe to run again


def escalate_due(conn, now: datetime | None = None, region_code: str | None = None,
                 batch: int = ESCALATE_BATCH) -> int:
    """Escalate every incident past its deadline, exactly once per level; returns the escalations
    made. Commits after each batch of ``incident_escalate_batch`` (0011), which locks with SKIP
    LOCKED and so never waits: what another runner or an API action holds is left for the next
    round. Any number of runners and actions may run at once."""
    import time

    now = now or datetime.now(timezone.utc)
    made, attempts = 0, 0
    while True:
        try:
            with conn.cursor() as cur:
                cur.execute(sql("incident_escalate_due"), {"now": now, "region_code": region_code,
                                                           "limit": batch})
                touched, escalations = cur.fetchone()
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            if exc.pgcode in _RETRY and attempts < 5:  # cannot happen by design; retried if it does
                import logging

                logging.getLogger("onemap.escalation").warning("escalation batch failed (%s); retrying", exc.pgcode)
                attempts += 1
                time.sleep(0.05 * attempts)
                continue
            raise
        made += escalations
        if touched < batch:
            return made


def record_positions(conn, actor, fixes, now: datetime | None = None) -> int:
    """Store a batch of the actor's GPS fixes (a worker's phone); returns how many were new."""
    if actor.worker_id is None:
        raise Forbidden("only a grid worker's account sends positions")
    if not isinstance(fixes, list) or not fixes or len(fixes) > 1000:
        raise Invalid("positions must be a list of 1 to 1000 fixes")
    now = now or datetime.now(timezone.utc)
    rows, errors = [], {}
    for i, fix in enumerate(fixes):
        e: dict[str, str] = {}
        if not isinstance(fix, dict):
            errors[f"positions[{i}]"] = "must be an object"
            continue
        lon = _number(fix, "lon", -180, 180, e)
        lat = _number(fix, "lat", -90, 90, e)
        at = parse_time(fix.get("at"), "at", e, now)
        acc = fix.get("accuracy_m")
        if acc is not None and (isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0 <= acc < 1e5):
            e["accuracy_m"] = "must be a number of metres"
        errors.update({f"positions[{i}].{k}": v for k, v in e.items()})
        if not e:
            rows.append((actor.worker_id, actor.region_code, at,
                         f"SRID=4326;POINT({lon!r} {lat!r})", acc))
    if errors:
        raise Invalid("some positions are invalid; none were stored", errors)
    with conn.cursor() as cur:
        cur.execute(sql("worker_position_outside"), {
            "lons": [float(fix["lon"]) for fix in fixes], "lats": [float(fix["lat"]) for fix in fixes],
            "region_code": actor.region_code, "tolerance_m": FIX_TOLERANCE_M})
        outside = cur.fetchall()
        if outside:
            conn.rollback()
            raise Invalid(f"{len(outside)} fix(es) lie outside region {actor.region_code}; none were stored",
                          {f"positions[{i - 1}].lon": f"{m / 1000:.1f} km outside the region" for i, m in outside[:20]})
        execute_values(cur, sql("worker_position_batch"), rows, template="(%s, %s, %s, %s::geometry, %s)")
        stored = cur.rowcount
    conn.commit()
    return stored


def add_photo(conn, actor, incident_id, data: bytes, content_type: str | None) -> dict:
    """Attach a photo to a visible incident: decoded and re-encoded (``data.photos``), within the
    per-incident quota (``PHOTO_MAX_COUNT`` photos, ``PHOTO_MAX_TOTAL`` bytes). Commits."""
    get(conn, actor, incident_id)
    if content_type and content_type.split(";")[0].strip() not in (*PHOTO_TYPES.values(), "application/octet-stream"):
        raise Invalid(f"photos are sent as image/jpeg or image/png, not {content_type}",
                      {"content_type": "image/jpeg or image/png"})
    try:
        stored = photos.reencode(data)
    except photos.PhotoError as exc:
        raise PhotoRefused(exc.message, {"photo": exc.message}, status=exc.status, code=exc.code) from None
    digest = hashlib.sha256(stored.data).hexdigest()
    with dict_cursor(conn) as cur:
        cur.execute(sql("incident_photo_quota"), {"incident_id": str(incident_id)})
        held = cur.fetchone()
        if held["photos"] >= PHOTO_MAX_COUNT or held["bytes"] + len(stored.data) > PHOTO_MAX_TOTAL:
            conn.rollback()
            raise PhotoRefused(f"this incident already holds {held['photos']} photos ({held['bytes']} bytes): "
                               f"at most {PHOTO_MAX_COUNT} and {PHOTO_MAX_TOTAL // (1024 * 1024)} MB",
                               {"photo": "quota reached"}, status=409, code="photo_quota")
        cur.execute(sql("incident_photo_insert"), {"id": str(incident_id), "content_type": stored.content_type,
                                                   "size": len(stored.data), "sha256": digest,
                                                   "data": psycopg2.Binary(stored.data), "actor": _label(actor)})
        photo_id = cur.fetchone()["id"]
    conn.commit()
    return {"id": photo_id, "content_type": stored.content_type, "size_bytes": len(stored.data),
            "sha256": digest, "width": stored.width, "height": stored.height}


class PhotoRefused(IncidentError):
    """A photo refused (unreadable, too many pixels, too large, over the quota); status varies."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, status: int, code: str):
        super().__init__(message, fields)
        self.status, self.code = status, code


def patrol_coverage(conn, actor, since: datetime) -> list[dict]:
    """Cells in the actor's jurisdiction and whether a worker's fix fell in each since ``since``."""
    with conn.cursor() as cur:
        cur.execute(sql("patrol_coverage"), {"region_code": actor.region_code, "scope": _scope(actor),
                                             "since": since})
        rows = [{"cell_code": c, "name": n, "visited": v} for c, n, v in cur.fetchall()]
    conn.rollback()
    return rows
