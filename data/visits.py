"""The field app's daily visit log (日走访): a grid worker records a household or place visited.

Each visit carries the phone's UUID, so the offline queue may send it any number of times and it
is stored once; a retry whose payload differs from the stored one is refused (409), like reports.
Functions take a connection; ``record`` commits.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone

from data.incidents import Forbidden, IncidentError, Invalid, _number, parse_time
from db.core import sql
from domain import values

KINDS = ("household", "place")
PLACE_MAX, NOTE_MAX = 200, 4000
VISIT_ROLES = {"worker", "admin"}


class IdReused(IncidentError):
    """A visit's UUID was already stored with other content (or by someone else)."""

    status, code = 409, "id_reused"


def validate(payload, now: datetime) -> dict:
    """The visit's fields from a JSON body, or ``Invalid`` naming every bad field."""
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    try:
        vid = uuid.UUID(str(payload.get("id")))
        if vid.int in (0, (1 << 128) - 1):
            raise ValueError
    except ValueError:
        errors["id"] = "required random UUID made by the phone (the idempotency key)"
        vid = None
    kind = payload.get("kind", "household")
    if kind not in KINDS:
        errors["kind"] = f"one of {', '.join(KINDS)}"
    fields = {}
    for key, limit, required in (("place", PLACE_MAX, True), ("note", NOTE_MAX, False)):
        value = payload.get(key, "" if not required else None)
        try:
            if not isinstance(value, str) or (required and not value.strip()):
                raise ValueError("required text" if required else "must be text")
            fields[key] = values.clean_text(value.strip(), limit)
        except ValueError as exc:
            errors[key] = str(exc)
    lon = lat = None
    if payload.get("lon") is not None or payload.get("lat") is not None:
        lon = _number(payload, "lon", -180, 180, errors)
        lat = _number(payload, "lat", -90, 90, errors)
    visited = parse_time(payload.get("visited_at"), "visited_at", errors, now)
    if errors:
        raise Invalid("the visit has invalid fields", errors)
    return {"id": str(vid), "kind": kind, "place": fields["place"], "note": fields.get("note", ""),
            "lon": lon, "lat": lat, "visited_at": visited}


def _fingerprint(v: dict) -> str:
    body = {**v, "visited_at": v["visited_at"].isoformat()}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record(conn, actor, visit: dict) -> tuple[dict, bool]:
    """Store a validated visit for ``actor``; (the visit, created?). A retry is (stored, False)."""
    if actor.role not in VISIT_ROLES:
        raise Forbidden(f"role {actor.role} keeps no visit log (grid workers do)")
    sha = _fingerprint(visit)
    with conn.cursor() as cur:
        cur.execute(sql("visit_insert"), {**visit, "region_code": actor.region_code, "user_id": actor.user_id,
                                          "worker_id": actor.worker_id, "sha": sha})
        _id, created, stored_sha, owner = cur.fetchone()
    if not created and (owner != actor.user_id or stored_sha != sha):
        conn.rollback()
        raise IdReused(f"visit {visit['id']} was already stored with other content; make a new UUID")
    conn.commit()
    return {**visit, "visited_at": visit["visited_at"].isoformat()}, bool(created)


def recent(conn, actor, days: int = 7, limit: int = 200, now: datetime | None = None) -> list[dict]:
    """The actor's own visits of the last ``days`` days, newest first."""
    since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    with conn.cursor() as cur:
        cur.execute(sql("visit_list"), {"user_id": actor.user_id, "since": since, "limit": limit})
        rows = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return rows


def categories(conn, actor) -> list[dict]:
    """Incident categories with the department of the actor's region that handles each."""
    from db.core import dict_cursor

    with dict_cursor(conn) as cur:
        cur.execute(sql("field_categories"), {"region_code": actor.region_code})
        rows = [dict(r) for r in cur.fetchall()]
    conn.rollback()
    return rows


def cells(conn, actor) -> dict:
    """A FeatureCollection of cell outlines for the actor's phone map: a grid worker's cell and the
    cells touching it (grid boundaries are public reference data, not personal), else the cells
    of the jurisdiction."""
    with conn.cursor() as cur:
        cur.execute(sql("field_cells"), {"unit_code": actor.unit_code, "region_code": actor.region_code,
                                         "neighbours": actor.role == "worker"})
        (collection,) = cur.fetchone()
    conn.rollback()
    return collection


def week(conn, actor, now: datetime | None = None) -> dict:
    """The actor's last seven days: cells their GPS covered, incidents reported, visits logged."""
    since = (now or datetime.now(timezone.utc)) - timedelta(days=7)
    with conn.cursor() as cur:
        cur.execute(sql("visit_week"), {"worker_id": actor.worker_id, "user_id": actor.user_id,
                                        "region_code": actor.region_code, "since": since})
        cells, reports, visits = cur.fetchone()
    conn.rollback()
    return {"since": since.isoformat(), "cells_covered": cells, "reports": reports, "visits": visits}
