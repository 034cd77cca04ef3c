"""The "9+X" base registries: houses, households and people kept current by grid workers.

Every write is idempotent on the client's UUID (``uid``: the same add sent twice stores one row;
a later send with the same ``uid`` updates it) and stays inside the caller's jurisdiction: the
database decides a house's cell from its point, a household's from its house, a person's from
their household. ID numbers and phones go to ``reg_person_secret_set`` and are stored only
masked where the app can read them; ``reveal`` is the one way back, with a reason, audited by the
database. Functions take a connection and do not commit unless they say so.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

import psycopg2

from data.audit import audit
from data.incidents import Forbidden, Invalid, NotFound, validate_point
from db.core import dict_cursor, sql
from domain import idcard, policy, shapes, values
from domain import registry as vocab

TEXT = 200
PAGE_MAX = 500


# -- validation -----------------------------------------------------------------------------

def _uid(payload: dict, errors: dict, key: str = "uid") -> str | None:
    try:
        value = uuid.UUID(str(payload.get(key)))
        if value.int in (0, (1 << 128) - 1):
            raise ValueError
        return str(value)
    except ValueError:
        errors[key] = "required UUID made by the client (the idempotency key)"
        return None


def _text(payload: dict, key: str, errors: dict, required: bool = False, limit: int = TEXT) -> str:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            errors[key] = "required"
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # a spreadsheet cell holding a number (a house number, a cell code)
    if not isinstance(value, str):
        errors[key] = "must be text"
        return ""
    try:
        return values.clean_text(value.strip(), limit)
    except ValueError as exc:
        errors[key] = str(exc)
        return ""


def _choice(payload: dict, key: str, options: tuple[str, ...], default: str | None, errors: dict) -> str | None:
    value = payload.get(key, default)
    if value is None and default is None:
        errors[key] = f"one of {', '.join(options)}"
        return None
    if value not in options:
        errors[key] = f"one of {', '.join(options)}"
        return None
    return str(value)


def _date(payload: dict, key: str, errors: dict) -> date | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[key] = "a date YYYY-MM-DD"
        return None


def _ref(payload: dict, key: str, errors: dict) -> int | str | None:
    """A reference to another registry row: its id (an integer) or its client UUID."""
    value = payload.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        errors[key] = "the row's id or its UUID"
        return None


def _raise(errors: dict, what: str) -> None:
    if errors:
        raise Invalid(f"the {what} has invalid fields", errors)


def _footprint(payload: dict, errors: dict) -> tuple[str | None, bool]:
    """(WKT of the footprint or None, remove it?): absent or null keeps the stored one, "" removes it."""
    value = payload.get("footprint")
    if value is None:
        return None, False
    if value == "":
        return None, True
    try:
        return shapes.polygon_wkt(value), False
    except ValueError as exc:
        errors["footprint"] = str(exc)
        return None, False


def validate_house(payload: Any) -> dict:
    """A house from a JSON body (``uid``, ``address``, ``use``, ``floors``, ``lon``, ``lat``, and
    an optional ``footprint``: a GeoJSON Polygon or WKT)."""
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"uid": _uid(payload, errors), "address": _text(payload, "address", errors, required=True),
           "use": _choice(payload, "use", vocab.HOUSE_USES, "residential", errors), "floors": None}
    floors = payload.get("floors")
    if floors not in (None, ""):
        if isinstance(floors, bool) or not isinstance(floors, int) or not 1 <= floors <= 200:
            errors["floors"] = "a whole number 1–200"
        else:
            out["floors"] = floors
    out["lon"], out["lat"] = validate_point(payload, errors)
    out["footprint"], out["footprint_clear"] = _footprint(payload, errors)
    _raise(errors, "house")
    return out


def validate_household(payload: Any) -> dict:
    """A household from a JSON body (``uid``, ``house`` id or UUID, ``kind``, ``moved_out_at``)."""
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    errors: dict[str, str] = {}
    out = {"uid": _uid(payload, errors), "house": _ref(payload, "house", errors),
           "kind": _choice(payload, "kind", vocab.HOUSEHOLD_KINDS, "family", errors),
           "moved_out_at": _date(payload, "moved_out_at", errors)}
    if out["house"] is None and "house" not in errors:
        errors["house"] = "required: the house's id or UUID"
    _raise(errors, "household")
    return out


def _identity(payload: dict, errors: dict, today: date) -> dict:
    """ID number (checked, GB 11643), and the sex and birth date it gives (else as sent)."""
    raw = payload.get("id_number")
    out: dict[str, Any] = {"id_number": None, "sex": None, "birth_date": None}
    if isinstance(raw, str) and "*" in raw:
        out["id_number"] = None  # the masked form sent back unchanged (an edited export): keep it
    elif raw not in (None, ""):
        try:
            info = idcard.parse(str(raw), today)
            out.update(id_number=info.number, sex=info.sex, birth_date=info.birth_date)
            return out
        except ValueError as exc:
            errors["id_number"] = str(exc)
            return out
    out["sex"] = payload.get("sex") or None
    if out["sex"] is not None and out["sex"] not in vocab.SEXES:
        errors["sex"] = "M or F"
    out["birth_date"] = _date(payload, "birth_date", errors)
    if out["birth_date"] and out["birth_date"] > today:
        errors["birth_date"] = "in the future"
    return out


def validate_person(payload: Any, today: date | None = None) -> dict:
    """A person from a JSON body; sex and birth date are taken from a valid ID number."""
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    today = today or date.today()
    errors: dict[str, str] = {}
    out = {"uid": _uid(payload, errors), "household": _ref(payload, "household", errors),
           "cell_code": _text(payload, "cell_code", errors, limit=15) or None,
           "name": _text(payload, "name", errors, required=True, limit=60),
           "ethnicity": _text(payload, "ethnicity", errors, limit=20) or "汉族",
           "residence": _choice(payload, "residence", vocab.RESIDENCE, "registered", errors),
           "registered_address": _text(payload, "registered_address", errors),
           "relation": _text(payload, "relation", errors, limit=20),
           "moved_out_at": _date(payload, "moved_out_at", errors), "phone": None,
           "keep_phone": False}
    out.update(_identity(payload, errors, today))
    phone = payload.get("phone")
    if isinstance(phone, str) and "*" in phone:
        out["keep_phone"] = True
    elif phone not in (None, ""):
        try:
            out["phone"] = idcard.phone(str(phone))
        except ValueError as exc:
            errors["phone"] = str(exc)
    if out["household"] is None and out["cell_code"] is None and not errors.get("household"):
        errors["household"] = "the household's id or UUID (or a cell_code for a person without one)"
    _raise(errors, "person")
    return out


# -- writes ---------------------------------------------------------------------------------

def _may_edit(actor) -> None:
    if not policy.sees(actor, policy.REGISTRY_EDIT):
        raise Forbidden(f"role {actor.role} does not keep the registries (grid workers, dispatchers and admins do)")


def _cover(actor, cell: str | None, what: str) -> None:
    if not policy.covers(actor, cell):
        raise Forbidden(f"the {what} lies in cell {cell}, outside your jurisdiction {actor.unit_code}")


def _existing(cur, actor, kind: str, ref: int | str | None) -> tuple[int, str] | None:
    """(id, cell) of an existing row by id or UUID in the region, else None."""
    if ref is None:
        return None
    cur.execute(sql("reg_cell_of"), {"kind": kind, "region_code": actor.region_code,
                                     "id": ref if isinstance(ref, int) else None,
                                     "uid": ref if isinstance(ref, str) else None})
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


def save_house(conn, actor, house: dict) -> tuple[dict, bool]:
    """Add or update a validated house; (the stored house's id/cell, created?). No commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        before = _existing(cur, actor, "house", house["uid"])
        if before:
            _cover(actor, before[1], "house")
        cur.execute("SELECT grid_cell_at(%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                    (actor.region_code, house["lon"], house["lat"]))
        cell = cur.fetchone()[0]
        if cell is None:
            raise Invalid("the house's point is outside the county's grid", {"lon": "outside the grid"})
        _cover(actor, cell, "house")
        if house.get("footprint"):
            _check_footprint(cur, house, cell)
        cur.execute("SAVEPOINT reg_house")
        try:
            cur.execute(sql("reg_house_upsert"), {"footprint": None, "footprint_clear": False, **house,
                                                  "region_code": actor.region_code, "cell_code": cell})
        except psycopg2.errors.CheckViolation:  # moved away from the footprint it keeps
            cur.execute("ROLLBACK TO SAVEPOINT reg_house")
            raise Invalid("the house's stored footprint lies outside its new cell: send a new footprint",
                          {"footprint": f"outside cell {cell}"}) from None
        row = cur.fetchone()
        cur.execute("RELEASE SAVEPOINT reg_house")
    if row is None:
        raise Forbidden("that UUID belongs to another region's house")
    return {"id": row[0], "uid": house["uid"], "cell_code": row[1]}, bool(row[2])


FOOTPRINT_REACH_M = 100  # the house's point lies in its footprint or this close to it


def _check_footprint(cur, house: dict, cell: str) -> None:
    """``Invalid`` naming why a footprint cannot be stored: not a valid polygon (with the reason),
    too large, outside the house's cell, or away from the house's point."""
    cur.execute(sql("reg_footprint_check"), {"wkt": house["footprint"], "cell_code": cell,
                                             "lon": house["lon"], "lat": house["lat"]})
    valid, reason, area, in_cell, near = cur.fetchone()
    if not valid:
        problem = f"not a valid polygon: {reason}"
    elif not 1 <= area <= 1_000_000:
        problem = f"its area is {area:.0f} m²; a house's outline is 1 m² to 1 km²"
    elif not in_cell:
        problem = f"it lies outside the house's cell {cell}"
    elif not near:
        problem = f"the house's point is more than {FOOTPRINT_REACH_M} m from it"
    else:
        return
    raise Invalid(f"the footprint is refused: {problem}", {"footprint": problem})


def save_household(conn, actor, hh: dict) -> tuple[dict, bool]:
    """Add or update a validated household in its house's cell; no commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        before = _existing(cur, actor, "household", hh["uid"])
        if before:
            _cover(actor, before[1], "household")
        house = _existing(cur, actor, "house", hh["house"])
        if house is None:
            raise Invalid("no such house", {"house": "no house with that id or UUID"})
        _cover(actor, house[1], "house")
        cur.execute(sql("reg_household_upsert"), {**hh, "house_id": house[0], "region_code": actor.region_code})
        row = cur.fetchone()
    if row is None:
        raise Forbidden("that UUID belongs to another region's household")
    return {"id": row[0], "uid": hh["uid"], "cell_code": row[1]}, bool(row[2])


def save_person(conn, actor, person: dict) -> tuple[dict, bool]:
    """Add or update a validated person (cell from the household); ID and phone stored as secrets
    (one not given, or given back masked, stays as stored)."""
    _may_edit(actor)
    with conn.cursor() as cur:
        before = _existing(cur, actor, "person", person["uid"])
        if before:
            _cover(actor, before[1], "person")
        household_id, cell = None, person["cell_code"]
        if person["household"] is not None:
            hh = _existing(cur, actor, "household", person["household"])
            if hh is None:
                raise Invalid("no such household", {"household": "no household with that id or UUID"})
            household_id, cell = hh
        else:
            cur.execute("SELECT 1 FROM grid_unit WHERE code = %s AND level = 4 AND region_code = %s",
                        (cell, actor.region_code))
            if cur.fetchone() is None:
                raise Invalid("no such cell", {"cell_code": "a level-4 grid cell code of the county"})
        _cover(actor, cell, "person")
        cur.execute("SAVEPOINT reg_person")
        cur.execute(sql("reg_person_upsert"), {
            **{k: person[k] for k in ("uid", "name", "sex", "birth_date", "ethnicity", "residence",
                                      "registered_address", "relation", "moved_out_at")},
            "region_code": actor.region_code, "household_id": household_id, "cell_code": cell})
        row = cur.fetchone()
        if row is None:
            raise Forbidden("that UUID belongs to another region's person, or the record was anonymised")
        try:
            cur.execute(sql("reg_person_secret_set"), {
                "person_id": row[0], "id_number": person["id_number"],
                "phone": None if person["keep_phone"] else person["phone"]})  # None: unchanged
        except psycopg2.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT reg_person")
            raise Invalid("this ID number is already registered for another person in the county",
                          {"id_number": "already registered"}) from None
        cur.execute("RELEASE SAVEPOINT reg_person")
    return {"id": row[0], "uid": person["uid"], "cell_code": row[1]}, bool(row[2])


# -- reads ----------------------------------------------------------------------------------

def _scope(actor, unit: str | None) -> str:
    try:
        return policy.narrow(actor, unit)
    except policy.OutsideJurisdiction as exc:
        raise Forbidden(str(exc)) from None


def person_out(actor, record: dict) -> dict:
    """A person record masked for ``actor``; the reveal of names noted for the audit."""
    out, revealed = policy.mask_record(actor, record, policy.PERSON_FIELDS)
    policy.note_reveal(f"person:{record['id']}", revealed, actor=actor)
    return out


def people(conn, actor, *, unit: str | None = None, household_id: int | None = None,
           person_id: int | None = None, id_number: str | None = None, include_moved: bool = False,
           limit: int = 100, offset: int = 0) -> list[dict]:
    """People in the jurisdiction (a list needs the ``personal`` class), masked for the role."""
    if not policy.sees(actor, policy.PERSONAL):
        raise Forbidden(f"role {actor.role} works from counts, not lists of residents (PIPL: minimum necessary)")
    if id_number is not None:
        try:
            id_number = idcard.parse(id_number).number
        except ValueError as exc:
            raise Invalid(str(exc), {"id_number": str(exc)}) from None
    bind = {"region_code": actor.region_code, "scope": _scope(actor, unit), "household_id": household_id,
            "person_id": person_id, "id_number": id_number, "include_moved": include_moved,
            "limit": max(1, min(limit, PAGE_MAX)), "offset": max(0, offset)}
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_people"), bind)
        rows = [dict(r) for r in cur.fetchall()]
    return [person_out(actor, r) for r in rows]


def _visible_incidents(actor, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        if policy.incident_visible(actor, r["cell_code"], r["department_code"], r["reporter_id"]):
            out.append({"id": r["id"], "category": r["category"], "state": r["state"], "status": r["status"],
                        "cell_code": r["cell_code"], "received_at": r["received_at"].isoformat()})
    return out


def incidents_of(conn, actor, person_id: int | None = None, house_id: int | None = None) -> list[dict]:
    """The incidents linked to a person or a house that ``actor`` may see (no descriptions)."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_incidents_of"), {"region_code": actor.region_code, "person_id": person_id,
                                              "house_id": house_id})
        return _visible_incidents(actor, [dict(r) for r in cur.fetchall()])


def person(conn, actor, person_id: int) -> dict:
    """One person (masked), their special-group records if the role sees them, their incidents."""
    found = people(conn, actor, person_id=person_id, include_moved=True, limit=1)
    if not found:
        raise NotFound(f"no person {person_id} in your jurisdiction")
    out = found[0]
    if policy.sees(actor, policy.SPECIAL_GROUP):
        with dict_cursor(conn) as cur:
            cur.execute(sql("reg_special_of"), {"person_id": person_id})
            out["special_records"] = [dict(r) for r in cur.fetchall()]
    out["incidents"] = incidents_of(conn, actor, person_id=person_id)
    return out


def reveal(conn, actor, person_id: int, reason: Any) -> dict:
    """The full record with the clear ID number and phone: for roles of the ``id_number`` class,
    within the jurisdiction, with a stated reason; the database writes the audit row. Commits."""
    if not policy.sees(actor, policy.ID_NUMBER):
        raise Forbidden(f"role {actor.role} may not see residents' ID numbers")
    try:
        why = policy.reveal_reason(reason)
    except ValueError as exc:
        raise Invalid(str(exc), {"reason": str(exc)}) from None
    record = person(conn, actor, person_id)
    if actor.user_id is None:
        raise Forbidden("a reveal needs a signed-in account (it is audited by name)")
    with conn.cursor() as cur:
        try:
            cur.execute(sql("reg_person_reveal"), {"person_id": person_id, "user_id": actor.user_id, "reason": why})
        except psycopg2.errors.InsufficientPrivilege as exc:
            conn.rollback()
            raise Forbidden(str(exc).splitlines()[0]) from None
        id_number, phone = cur.fetchone()
    conn.commit()
    return {**record, "id_number": id_number, "phone": phone, "reason": why}


def house(conn, actor, house_id: int) -> dict:
    """One house in the jurisdiction with its households (member counts suppressed as policy says)."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_house_get"), {"id": house_id, "region_code": actor.region_code,
                                           "scope": actor.unit_code})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no house {house_id} in your jurisdiction")
    out = dict(row)
    if policy.sees(actor, policy.PERSONAL):  # an address says where a family lives (as on the houses layer)
        policy.note_reveal(f"house:{house_id}", ["address"], actor=actor)
    else:
        out["address"] = None
    out["households"] = [{**h, "members": policy.suppress(actor, h["members"])} for h in out["households"]]
    out["incidents"] = incidents_of(conn, actor, house_id=house_id)
    return out


def household(conn, actor, household_id: int) -> dict:
    """One household, its members (a list of people: the ``personal`` class) and its visit log."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_household_get"), {"id": household_id, "uid": None, "region_code": actor.region_code,
                                               "scope": actor.unit_code})
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no household {household_id} in your jurisdiction")
        out = dict(row)
        cur.execute(sql("reg_household_visits"), {"household_id": household_id})
        out["visits"] = [{**dict(v), "visited_at": v["visited_at"].isoformat()} for v in cur.fetchall()]
    out["members"] = people(conn, actor, household_id=household_id)
    return out


def visit_flags(payload: Any) -> list[str]:
    """The optional flags of a household visit (``flags``: a list from ``VISIT_FLAGS``), sorted."""
    value = payload.get("flags") if isinstance(payload, dict) else None
    if value in (None, []):
        return []
    if not isinstance(value, list) or any(f not in vocab.VISIT_FLAGS for f in value):
        raise Invalid("the visit has invalid fields", {"flags": f"a list of {', '.join(vocab.VISIT_FLAGS)}"})
    return sorted(set(value))


def link_visit(conn, actor, household_id: int, visit_id: str, flags: list[str] | None = None) -> None:
    """Link a stored field visit (data/visits.py) to a household in the jurisdiction; commits."""
    household_ref(conn, actor, household_id)
    with conn.cursor() as cur:
        cur.execute(sql("reg_household_visit_link"), {"visit_id": visit_id, "region_code": actor.region_code,
                                                      "household_id": household_id, "flags": flags or []})
    conn.commit()


def household_ref(conn, actor, ref: int | str) -> int:
    """The id of a household of the jurisdiction named by its id or client UUID, else ``NotFound``."""
    hid: int | None = None
    uid: str | None = None
    if isinstance(ref, int) or (str(ref).isascii() and str(ref).isdigit()):
        hid = int(ref)
    else:
        try:
            uid = str(uuid.UUID(str(ref)))
        except ValueError:
            raise NotFound(f"no household {str(ref)[:40]} in your jurisdiction") from None
    if hid is not None and not 0 < hid < 2**63:
        raise NotFound(f"no household {hid} in your jurisdiction")
    with conn.cursor() as cur:
        cur.execute(sql("reg_household_get"), {"id": hid, "uid": uid, "region_code": actor.region_code,
                                               "scope": actor.unit_code})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no household {str(ref)[:40]} in your jurisdiction")
    return int(row[0])


def houses(conn, actor, *, unit: str | None = None, q: str | None = None, limit: int = 100,
           offset: int = 0) -> list[dict]:
    """Houses of the jurisdiction (an address search), with their households: a list of
    addresses, so for the roles of the ``personal`` class only; each address noted for the audit."""
    if not policy.sees(actor, policy.PERSONAL):
        raise Forbidden(f"role {actor.role} works from counts, not lists of addresses (PIPL: minimum necessary)")
    bind = {"region_code": actor.region_code, "scope": _scope(actor, unit), "q": (q or "").strip() or None,
            "limit": max(1, min(limit, PAGE_MAX)), "offset": max(0, offset)}
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_house_list"), bind)
        rows = [dict(r) for r in cur.fetchall()]
    for r in rows:
        policy.note_reveal(f"house:{r['id']}", ["address"], actor=actor)
    return [{**r, "households": [{**h, "members": policy.suppress(actor, h["members"])} for h in r["households"]]}
            for r in rows]


def link_incident(conn, actor, incident_id: str, person_id: int | None, house_id: int | None) -> bool:
    """Link a visible incident to a person or a house of the jurisdiction; True when new. Commits."""
    _may_edit(actor)
    if (person_id is None) == (house_id is None):
        raise Invalid("link a person or a house", {"person_id": "one of person_id, house_id"})
    try:
        iid = str(uuid.UUID(str(incident_id)))
    except ValueError:
        raise Invalid("not an incident id", {"incident_id": "a UUID"}) from None
    with conn.cursor() as cur:
        cur.execute("SELECT cell_code, department_code, reporter_id FROM incident WHERE id = %s AND region_code = %s",
                    (iid, actor.region_code))
        inc = cur.fetchone()
        if inc is None or not policy.incident_visible(actor, *inc):
            raise NotFound(f"no incident {iid} in your jurisdiction")
        target = _existing(cur, actor, "person" if person_id else "house", person_id or house_id)
        if target is None or not policy.covers(actor, target[1]):
            raise NotFound("no such person or house in your jurisdiction")
        cur.execute(sql("reg_incident_link_insert"), {"region_code": actor.region_code, "incident_id": iid,
                                                      "person_id": person_id, "house_id": house_id,
                                                      "user_id": actor.user_id})
        created = cur.fetchone() is not None
    conn.commit()
    return created


def counts(conn, actor, unit: str | None = None) -> list[dict]:
    """Population, households and houses per unit one level down, from the registry; small
    counts suppressed for roles without ``people_count``."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_counts"), {"region_code": actor.region_code, "scope": _scope(actor, unit)})
        rows = [dict(r) for r in cur.fetchall()]
    return [{**r, "population": policy.suppress(actor, r["population"]),
             "households": policy.suppress(actor, r["households"])} for r in rows]


def special_counts(conn, actor, unit: str | None = None, now: datetime | None = None) -> list[dict]:
    """Special-group members per unit and kind, and how many were followed up on time; for the
    roles of the ``special_group`` class only, small counts suppressed as for any people count."""
    if not policy.sees(actor, policy.SPECIAL_GROUP):
        raise Forbidden(f"role {actor.role} does not see special-group membership")
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_special_counts"), {"region_code": actor.region_code, "scope": _scope(actor, unit),
                                                "now": now or datetime.now(timezone.utc),
                                                "days": vocab.FOLLOWUP_DAYS})
        rows = [dict(r) for r in cur.fetchall()]
    return [{**r, "members": policy.suppress(actor, r["members"]), "on_time": policy.suppress(actor, r["on_time"])}
            for r in rows]


def audit_export(conn, actor, kind: str, scope: str, rows: int) -> None:
    """Record a bulk export of a registry (who, which, how many rows); no commit."""
    audit(conn, actor, "registry_export", f"registry_{kind}", scope, {"kind": kind, "scope": scope}, rows)


def structure(conn, actor, unit: str | None = None, today: date | None = None) -> dict[str, list[dict]]:
    """Residents by age band and sex (small counts suppressed) and houses by use, for the charts."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_structure"), {"region_code": actor.region_code, "scope": _scope(actor, unit),
                                           "today": today or date.today()})
        rows = [dict(r) for r in cur.fetchall()]
    return {"age": [{**r, "n": policy.suppress(actor, r["n"])} for r in rows if r["what"] == "age"],
            "use": [r for r in rows if r["what"] == "use"]}
