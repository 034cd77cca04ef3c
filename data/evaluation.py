"""The end of the loop and its hygiene: duplicate suggestions for a new report, merging
duplicates into one incident, and return visits (调后回访) after a case is resolved.

The rules live in the database (``incident_merge``, ``incident_return_visit``: 0022, 0023);
here are who may do what (roles, ``domain.policy``'s row rule) and the parameters' bounds."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import psycopg2

from data.incidents import (
    ACTION_ROLES,
    DESCRIPTION_MAX,
    Forbidden,
    Invalid,
    NotFound,
    _label,
    _refusal,
    get,
    validate_point,
)
from db.core import sql
from domain import policy

DUPLICATE_RADIUS_M = 300   # default distance for a suggestion
DUPLICATE_HOURS = 72       # default time window
DUPLICATE_LIMIT = 5
MERGE_ROLES = {"admin", "dispatcher"}
VISIT_ROLES = {"admin", "dispatcher", "worker"}  # the reporter's grid worker, or the back office
OUTCOMES = ("satisfied", "basic", "unsatisfied", "unreachable")
VISIT_FIELDS = {"note": (policy.PERSONAL, "hide"), "actor": (policy.STAFF_NAME, "label")}


def _uuid(value, key: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise Invalid(f"{key}: an incident id (UUID)", {key: "a UUID"}) from None


def duplicates(conn, actor, category: str, lon: float, lat: float, *, now: datetime | None = None,
               radius_m: int = DUPLICATE_RADIUS_M, hours: int = DUPLICATE_HOURS, exclude=None,
               limit: int = DUPLICATE_LIMIT) -> list[dict]:
    """Open incidents near (lon, lat) of ``category`` or a related one (same department kind),
    received in the last ``hours``, that the caller may see; nearest first."""
    now = now or datetime.now(timezone.utc)
    errors: dict[str, str] = {}
    validate_point({"lon": lon, "lat": lat}, errors)
    if not isinstance(category, str) or not category or len(category) > 64:
        errors["category"] = "a category code"
    if errors:
        raise Invalid("invalid duplicate query", errors)
    bind = {**policy.row_params(actor), "category": category, "lon": float(lon), "lat": float(lat),
            "radius_m": radius_m, "radius_deg": radius_m / 50_000.0, "hours": hours, "now": now,
            "exclude": None if exclude is None else str(exclude), "limit": limit}
    keys = ("id", "category", "category_name", "category_name_en", "state", "cell_code", "cell_name",
            "cell_name_en", "received_at", "distance_m", "same_category")
    with conn.cursor() as cur:
        cur.execute(sql("incident_duplicates"), bind)
        rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
    conn.rollback()
    for r in rows:
        r["id"] = str(r["id"])
    return rows


def duplicates_of(conn, actor, incident: dict, now: datetime | None = None) -> list[dict]:
    """The suggestions for a stored incident (the report's response): other open incidents like it."""
    return duplicates(conn, actor, incident["category"], incident["lon"], incident["lat"], now=now,
                      exclude=incident["id"])


def _visible(conn, actor, incident_id: str) -> tuple:
    with conn.cursor() as cur:
        cur.execute(sql("incident_scope_of"), {"id": incident_id})
        row = cur.fetchone()
    if row is None or not policy.incident_visible(actor, row[0], row[1], row[2]):
        conn.rollback()
        raise NotFound(f"no incident {incident_id} in your jurisdiction")
    return row


def merge(conn, actor, duplicate_id, into_id, note: str | None = None, now: datetime | None = None) -> dict:
    """Merge the open incident ``duplicate_id`` into ``into_id``: closed as a duplicate with a link,
    an event on both timelines; returns the merged incident. Commits."""
    now = now or datetime.now(timezone.utc)
    if actor.role not in MERGE_ROLES or getattr(actor, "read_only", False):
        raise Forbidden(f"role {actor.role} may not merge incidents")
    dup, into = _uuid(duplicate_id, "id"), _uuid(into_id, "into")
    if note is not None and (not isinstance(note, str) or len(note) > DESCRIPTION_MAX):
        raise Invalid("invalid note", {"note": f"a string of at most {DESCRIPTION_MAX} characters"})
    _visible(conn, actor, dup)
    _visible(conn, actor, into)
    try:
        with conn.cursor() as cur:
            cur.execute(sql("incident_merge"), {"dup": dup, "into": into, "actor": _label(actor), "note": note,
                                                "now": now})
    except psycopg2.Error as exc:
        conn.rollback()
        raise _refusal(exc) from exc
    conn.commit()
    return get(conn, actor, dup, now=now)


def return_visit(conn, actor, incident_id, outcome: str, note: str | None = None, reopen: bool = False,
                 now: datetime | None = None) -> dict:
    """Record the return visit of a resolved case (``reopen``: a 'not satisfied' visit reopens it
    through the state machine); returns the incident. Commits."""
    now = now or datetime.now(timezone.utc)
    iid = _uuid(incident_id, "id")
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = f"one of {', '.join(OUTCOMES)}"
    if note is not None and (not isinstance(note, str) or len(note) > DESCRIPTION_MAX):
        errors["note"] = f"a string of at most {DESCRIPTION_MAX} characters"
    if not isinstance(reopen, bool):
        errors["reopen"] = "true or false"
    if errors:
        raise Invalid("invalid return visit", errors)
    if actor.role not in VISIT_ROLES or getattr(actor, "read_only", False):
        raise Forbidden(f"role {actor.role} does not make return visits")
    _, _, reporter_id, _ = _visible(conn, actor, iid)
    if actor.role == "worker" and reporter_id != actor.worker_id:
        conn.rollback()
        raise Forbidden("a grid worker visits the residents of the cases they reported")
    if reopen and actor.role not in ACTION_ROLES["reopen"]:
        conn.rollback()
        raise Forbidden(f"role {actor.role} may not reopen: record the visit, the back office reopens")
    try:
        with conn.cursor() as cur:
            cur.execute(sql("return_visit_record"), {"id": iid, "outcome": outcome, "note": note,
                                                     "actor": _label(actor), "reopen": reopen, "now": now})
    except psycopg2.Error as exc:
        conn.rollback()
        raise _refusal(exc) from exc
    conn.commit()
    item = get(conn, actor, iid, now=now)
    item["return_visits"] = visits(conn, actor, iid, reporter_id)
    return item


def visits(conn, actor, incident_id: str, reporter_id: int | None = None) -> list[dict]:
    """The return visits of an incident the caller may see, notes masked for the caller's role."""
    keys = ("id", "round", "outcome", "note", "visited_at", "actor", "reopened")
    with conn.cursor() as cur:
        cur.execute(sql("return_visit_list"), {"id": incident_id})
        rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
    conn.rollback()
    own = actor.worker_id is not None and reporter_id == actor.worker_id
    out = []
    for r in rows:
        masked, seen = policy.mask_record(actor, r, VISIT_FIELDS, own=own)
        policy.note_reveal(f"incident:{incident_id}", [f"return_visit.{k}" for k in seen], actor=actor)
        out.append(masked)
    return out


def due_visits(conn, actor, now: datetime | None = None, days: int = 30, limit: int = 100) -> list[dict]:
    """Resolved cases of the last ``days`` waiting for a return visit: a grid worker's own reports,
    or everything in the back office's jurisdiction."""
    now = now or datetime.now(timezone.utc)
    if actor.role not in VISIT_ROLES:
        raise Forbidden(f"role {actor.role} does not make return visits")
    bind = {**policy.row_params(actor), "now": now, "days": days, "limit": limit,
            "only_reporter": actor.worker_id if actor.role == "worker" else None}
    keys = ("id", "category", "category_name", "category_name_en", "state", "cell_code", "cell_name",
            "cell_name_en", "resolved_at", "reporter_id", "visitor")
    with conn.cursor() as cur:
        cur.execute(sql("return_visit_due"), bind)
        rows = [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
    conn.rollback()
    for r in rows:
        r["id"] = str(r["id"])
        r.pop("reporter_id")
    return rows
