"""Special groups with their follow-ups (帮扶/管控), and the local "X" record types declared as data.

Special-group membership is its own field class (``domain.policy.SPECIAL_GROUP``): only the roles
that handle it record members and follow-ups, inside their jurisdiction. An "X" record type is a
row of ``reg_extension_kind`` (declared by the owner: ``onemap registry kind``); its records are
checked against the declaration (``domain.registry.check_record``). Functions do not commit.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any

from data.incidents import Forbidden, Invalid, NotFound, parse_time
from data.registry import _cover, _may_edit, _scope, _text, _uid
from db.core import dict_cursor, sql
from domain import policy
from domain import registry as vocab


def _may_handle(actor) -> None:
    _may_edit(actor)
    if not policy.sees(actor, policy.SPECIAL_GROUP):
        raise Forbidden(f"role {actor.role} does not handle special groups")


def join_group(conn, actor, person_id: int, payload: Any) -> tuple[int, bool]:
    """Record that a person of the jurisdiction belongs to a special group; (record id, created?)."""
    _may_handle(actor)
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    kind = payload.get("kind")
    errors = {} if kind in vocab.SPECIAL_GROUPS else {"kind": f"one of {', '.join(vocab.SPECIAL_GROUPS)}"}
    try:
        since = date.fromisoformat(str(payload.get("since") or date.today().isoformat()))
    except ValueError:
        errors["since"] = "a date YYYY-MM-DD"
    if errors:
        raise Invalid("the membership has invalid fields", errors)
    with conn.cursor() as cur:
        cur.execute("SELECT cell_code FROM reg_person WHERE id = %s AND region_code = %s",
                    (person_id, actor.region_code))
        row = cur.fetchone()
        if row is None or not policy.covers(actor, row[0]):
            raise NotFound(f"no person {person_id} in your jurisdiction")
        cur.execute(sql("reg_special_insert"), {"person_id": person_id, "region_code": actor.region_code,
                                                "kind": kind, "since": since})
        sid, created = cur.fetchone()
    return sid, bool(created)


def add_followup(conn, actor, special_id: int, payload: Any, now: datetime | None = None) -> int:
    """Append a follow-up (help or control) to a special-group record of the jurisdiction."""
    _may_handle(actor)
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    now = now or datetime.now(timezone.utc)
    errors: dict[str, str] = {}
    kind = payload.get("kind")
    if kind not in vocab.FOLLOWUP_KINDS:
        errors["kind"] = "help (帮扶) or control (管控)"
    note = _text(payload, "note", errors, limit=2000)
    at = parse_time(payload.get("at"), "at", errors, now) if payload.get("at") is not None else now
    if errors:
        raise Invalid("the follow-up has invalid fields", errors)
    with conn.cursor() as cur:
        cur.execute(sql("reg_special_cell"), {"id": special_id, "region_code": actor.region_code})
        row = cur.fetchone()
        if row is None or not policy.covers(actor, row[0]):
            raise NotFound(f"no special-group record {special_id} in your jurisdiction")
        cur.execute(sql("reg_followup_insert"), {"region_code": actor.region_code, "special_id": special_id,
                                                 "kind": kind, "at": at, "user_id": actor.user_id, "note": note})
        return cur.fetchone()[0]


# -- "X": local record types ----------------------------------------------------------------

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def declare_kind(conn, region_code: str, code: str, name: str, fields: Any, name_en: str = "",
                 personal: bool = False) -> list[dict]:
    """Declare (or redeclare) a local record type; ``ValueError`` names what is wrong. No commit."""
    if not CODE.match(code or ""):
        raise ValueError("code: lower-case letters, digits and _, 2–40 characters, starting with a letter")
    if not (name or "").strip():
        raise ValueError("name: the type's Chinese name is required")
    checked = vocab.check_spec(fields)
    with conn.cursor() as cur:
        cur.execute(sql("reg_x_kind_upsert"), {"code": code, "region_code": region_code, "name": name.strip(),
                                               "name_en": name_en, "personal": personal,
                                               "fields": json.dumps(checked, ensure_ascii=False)})
    return checked


def kinds(conn, actor, code: str | None = None) -> list[dict]:
    """The local record types of the caller's region (with their fields)."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_x_kind"), {"region_code": actor.region_code, "code": code})
        return [dict(r) for r in cur.fetchall()]


def _kind(conn, actor, code: str) -> dict:
    found = kinds(conn, actor, code)
    if not found:
        raise NotFound(f"no local record type {code!r} in your region")
    return found[0]


def save_record(conn, actor, code: str, payload: Any) -> tuple[dict, bool]:
    """Add or update a record of a local type (idempotent on ``uid``) in a cell of the jurisdiction."""
    _may_edit(actor)
    kind = _kind(conn, actor, code)
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    uid = _uid(payload, errors)
    cell = _text(payload, "cell_code", errors, required=True, limit=15)
    try:
        data = vocab.check_record(kind["fields"], payload.get("data"))
    except ValueError as exc:
        errors.update({f"data.{k}": v for k, v in (exc.args[1] if len(exc.args) > 1 else {}).items()})
        data = {}
    if errors:
        raise Invalid(f"the {code} record has invalid fields", errors)
    _cover(actor, cell, "record")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM grid_unit WHERE code = %s AND level = 4", (cell,))
        if cur.fetchone() is None:
            raise Invalid("no such cell", {"cell_code": "a level-4 grid cell code"})
        cur.execute(sql("reg_x_cell_of"), {"uid": uid, "region_code": actor.region_code})
        before = cur.fetchone()
        if before is not None:
            _cover(actor, before[0], "record")
        cur.execute(sql("reg_x_upsert"), {"uid": uid, "region_code": actor.region_code, "kind": code,
                                          "cell_code": cell, "data": json.dumps(data, ensure_ascii=False),
                                          "lon": None, "lat": None})
        row = cur.fetchone()
    if row is None:
        raise Forbidden("that UUID belongs to another region's or another type's record")
    return {"id": row[0], "uid": uid, "cell_code": row[1]}, bool(row[2])


def records(conn, actor, code: str, unit: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    """Records of a local type in the jurisdiction; a type that names people needs ``personal``."""
    kind = _kind(conn, actor, code)
    if kind["personal"] and not policy.sees(actor, policy.PERSONAL):
        raise Forbidden(f"records of {code} are about people; role {actor.role} works from counts")
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_x_records"), {"region_code": actor.region_code, "kind": code,
                                           "scope": _scope(actor, unit), "limit": max(1, min(limit, 500)),
                                           "offset": max(0, offset)})
        rows = [{**dict(r), "updated_at": r["updated_at"].isoformat()} for r in cur.fetchall()]
    if kind["personal"]:
        for r in rows:
            policy.note_reveal(f"x:{code}:{r['id']}", ["data"], actor=actor)
    return rows


# -- the standard's other registries: organisations, places, schools, disputes, lines --------

OTHER = ("orgs", "places", "schools", "disputes", "lines")


def other(conn, actor, which: str, unit: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    """Rows of one of the other registries in the jurisdiction; a dispute's summary is personal."""
    if which not in OTHER:
        raise NotFound(f"no registry {which!r}; registries: {', '.join(OTHER)}")
    with dict_cursor(conn) as cur:
        cur.execute(sql(f"reg_list_{which}"), {"region_code": actor.region_code, "scope": _scope(actor, unit),
                                               "limit": max(1, min(limit, 500)), "offset": max(0, offset)})
        rows = [dict(r) for r in cur.fetchall()]
    if which == "disputes":
        fields = {"summary": (policy.PERSONAL, "hide")}
        out = []
        for r in rows:
            masked, revealed = policy.mask_record(actor, r, fields)
            policy.note_reveal(f"dispute:{r['id']}", revealed, actor=actor)
            out.append(masked)
        return out
    return rows
