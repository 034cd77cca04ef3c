"""Writes of the standard's other registries: organisations (综治组织, 非公有制经济组织, 社会组织)
and their staff, public-order places (治安重点场所), schools and their surroundings (学校及周边) and
protected roads and lines (护路护线).

The rules are the houses' (``data.registry``): idempotent on the client's UUID (the same body sent
again answers the same; a later send with the same ``uid`` updates the row), inside the caller's
jurisdiction (a point's cell is decided by the database; a row's old cell must be covered too), and
a UUID that belongs to another registry's row, or a staff UUID sent for another organisation, is
refused (409). A staff member's phone is stored masked only. Functions do not commit.
"""
from __future__ import annotations

from typing import Any

from data.incidents import Forbidden, IncidentError, Invalid, NotFound
from data.registry import _cover, _may_edit, _raise, _ref, _text, _uid
from db.core import dict_cursor, sql
from domain import idcard, policy, shapes
from domain import registry as vocab

KINDS = ("org", "staff", "place", "school", "line")
CREDIT_CODE = "统一社会信用代码: 18 characters, digits and capitals (no I, O, S, V, Z)"
STAFF_FIELDS: dict[str, tuple[str, str]] = {"name": (policy.PERSONAL, "name")}


class UidReused(IncidentError):
    """The UUID already names a row of another registry (or a staff member of another organisation)."""

    status, code = 409, "id_reused"


def _body(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object")
    return payload


def _count(payload: dict, key: str, errors: dict, hi: int = 10_000_000) -> int | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        errors[key] = f"a whole number 0–{hi}"
        return None
    return value


def _point(payload: dict, errors: dict, required: bool) -> tuple[float | None, float | None]:
    lon, lat = payload.get("lon"), payload.get("lat")
    if lon in (None, "") and lat in (None, ""):
        if required:
            errors["lon"] = "required: the point's lon and lat (WGS84)"
        return None, None
    out = []
    for key, value, lo, hi in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        try:
            number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) \
                else float("nan")
        except ValueError:
            number = float("nan")
        if not lo <= number <= hi:
            errors[key] = f"a number between {lo} and {hi}"
        out.append(number)
    return out[0], out[1]


def validate_org(payload: Any) -> dict:
    """An organisation: ``uid``, ``kind`` (governance, business, social), ``name``, ``credit_code``,
    ``address``, ``staff_count``, and a point (``lon``/``lat``) or a ``cell_code``."""
    p = _body(payload)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "uid": _uid(p, errors), "kind": _choice(p, "kind", vocab.ORG_KINDS, errors),
        "name": _text(p, "name", errors, required=True), "address": _text(p, "address", errors),
        "credit_code": _text(p, "credit_code", errors, limit=18).upper() or None,
        "staff_count": _count(p, "staff_count", errors), "cell_code": _text(p, "cell_code", errors, limit=15) or None}
    if out["credit_code"] and not vocab.CREDIT_CODE.match(out["credit_code"]):
        errors["credit_code"] = CREDIT_CODE
    out["lon"], out["lat"] = _point(p, errors, required=False)
    if out["lon"] is None and out["cell_code"] is None and "lon" not in errors:
        errors["cell_code"] = "a point (lon, lat) or the cell's code"
    _raise(errors, "organisation")
    return out


def validate_staff(payload: Any) -> dict:
    """A staff member of an organisation: ``uid``, ``org`` (id or UUID), ``name``, ``post``, ``phone``."""
    p = _body(payload)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"uid": _uid(p, errors), "org": _ref(p, "org", errors),
                           "name": _text(p, "name", errors, required=True, limit=60),
                           "post": _text(p, "post", errors, limit=60), "phone": None}
    if out["org"] is None and "org" not in errors:
        errors["org"] = "required: the organisation's id or UUID"
    phone = p.get("phone")
    if isinstance(phone, str) and "*" in phone:
        out["phone"] = None  # the masked form sent back unchanged (an edited export): keep it
    elif phone not in (None, ""):
        try:
            out["phone"] = idcard.phone(str(phone))
        except ValueError as exc:
            errors["phone"] = str(exc)
    _raise(errors, "staff member")
    return out


def validate_place(payload: Any) -> dict:
    """A public-order place: ``uid``, ``kind``, ``name``, ``org`` (optional id or UUID), ``lon``/``lat``."""
    p = _body(payload)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"uid": _uid(p, errors), "kind": _choice(p, "kind", vocab.PLACE_KINDS, errors),
                           "name": _text(p, "name", errors, required=True), "org": _ref(p, "org", errors)}
    out["lon"], out["lat"] = _point(p, errors, required=True)
    _raise(errors, "place")
    return out


def validate_school(payload: Any) -> dict:
    """A school: ``uid``, ``name``, ``stage``, ``students``, ``surroundings`` (周边治安), ``lon``/``lat``."""
    p = _body(payload)
    errors: dict[str, str] = {}
    stage = p.get("stage") or "primary"
    out: dict[str, Any] = {"uid": _uid(p, errors), "name": _text(p, "name", errors, required=True),
                           "stage": stage if stage in vocab.SCHOOL_STAGES else None,
                           "students": _count(p, "students", errors, 100_000),
                           "surroundings": _text(p, "surroundings", errors, limit=2000)}
    if out["stage"] is None:
        errors["stage"] = f"one of {', '.join(vocab.SCHOOL_STAGES)}"
    out["lon"], out["lat"] = _point(p, errors, required=True)
    _raise(errors, "school")
    return out


def validate_line(payload: Any) -> dict:
    """A protected road or line: ``uid``, ``kind``, ``name``, ``unit_code`` (the responsible unit) and
    an optional ``geometry`` (GeoJSON LineString/MultiLineString, or WKT)."""
    p = _body(payload)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"uid": _uid(p, errors), "kind": _choice(p, "kind", vocab.LINE_KINDS, errors),
                           "name": _text(p, "name", errors, required=True),
                           "unit_code": _text(p, "unit_code", errors, required=True, limit=15), "wkt": None}
    if p.get("geometry") not in (None, ""):
        try:
            out["wkt"] = shapes.lines_wkt(p["geometry"])
        except ValueError as exc:
            errors["geometry"] = str(exc)
    _raise(errors, "line")
    return out


def _choice(p: dict, key: str, options: tuple[str, ...], errors: dict) -> str | None:
    value = p.get(key)
    if value not in options:
        errors[key] = f"one of {', '.join(options)}"
        return None
    return str(value)


# -- writes ---------------------------------------------------------------------------------

def _owner(cur, actor, kind: str, uid: str) -> tuple[int, str, int | None] | None:
    """(id, cell, org id) of the row holding ``uid`` if it is of ``kind``; UidReused if another kind's."""
    cur.execute(sql("reg_other_uid"), {"uid": uid})
    row = cur.fetchone()
    if row is None:
        return None
    found, rid, region, cell, org = row
    if found != kind:
        raise UidReused(f"UUID {uid} already names a {found} record, not a {kind}", {"uid": "already used"})
    if region != actor.region_code:
        raise Forbidden(f"that UUID belongs to another region's {kind}")
    _cover(actor, cell, kind)
    return rid, cell, org


def _cell(cur, actor, item: dict, what: str) -> str:
    """The cell of a row: from its point (the database decides), else the given level-4 cell code."""
    if item.get("lon") is not None:
        cur.execute("SELECT grid_cell_at(%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                    (actor.region_code, item["lon"], item["lat"]))
        cell = cur.fetchone()[0]
        if cell is None:
            raise Invalid(f"the {what}'s point is outside the county's grid", {"lon": "outside the grid"})
        if item.get("cell_code") and item["cell_code"] != cell:
            raise Invalid(f"the {what}'s point lies in cell {cell}, not {item['cell_code']}",
                          {"cell_code": f"the point lies in {cell}"})
    else:
        cell = item["cell_code"]
        cur.execute("SELECT 1 FROM grid_unit WHERE code = %s AND level = 4 AND region_code = %s",
                    (cell, actor.region_code))
        if cur.fetchone() is None:
            raise Invalid("no such cell", {"cell_code": "a level-4 grid cell code of the county"})
    _cover(actor, cell, what)
    return cell


def _org_ref(cur, actor, ref: int | str | None, required: bool) -> int | None:
    """The id of an organisation of the jurisdiction by id or UUID."""
    if ref is None:
        return None
    if isinstance(ref, int) and not 0 < ref < 2**63:  # a path's number beyond bigint: no such row
        raise NotFound("no such organisation in your jurisdiction")
    cur.execute(sql("reg_org_ref"), {"region_code": actor.region_code, "id": ref if isinstance(ref, int) else None,
                                     "uid": ref if isinstance(ref, str) else None})
    row = cur.fetchone()
    if row is None or not policy.covers(actor, row[1]):
        if required:
            raise NotFound("no such organisation in your jurisdiction")
        raise Invalid("no such organisation in your jurisdiction", {"org": "no organisation with that id or UUID"})
    return row[0]


def _stored(row, uid: str, what: str) -> tuple[dict, bool]:
    if row is None:
        raise Forbidden(f"that UUID belongs to another region's {what}")
    return {"id": row[0], "uid": uid, "cell_code": row[1]}, bool(row[2])


def save_org(conn, actor, org: dict) -> tuple[dict, bool]:
    """Add or update a validated organisation in a cell of the jurisdiction; no commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        _owner(cur, actor, "org", org["uid"])
        cell = _cell(cur, actor, org, "organisation")
        cur.execute(sql("reg_org_upsert"), {**org, "region_code": actor.region_code, "cell_code": cell})
        return _stored(cur.fetchone(), org["uid"], "organisation")


def save_staff(conn, actor, staff: dict) -> tuple[dict, bool]:
    """Add or update a staff member of an organisation of the jurisdiction (phone stored masked)."""
    _may_edit(actor)
    with conn.cursor() as cur:
        org_id = _org_ref(cur, actor, staff["org"], required=True)
        before = _owner(cur, actor, "staff", staff["uid"])
        if before is not None and before[2] != org_id:
            raise UidReused(f"UUID {staff['uid']} names a staff member of organisation {before[2]}",
                            {"org": "a staff member's UUID stays with its organisation"})
        cur.execute(sql("reg_staff_upsert"), {**staff, "region_code": actor.region_code, "org_id": org_id,
                                              "phone_masked": idcard.mask_phone(staff["phone"]) if staff["phone"]
                                              else None})
        return _stored(cur.fetchone(), staff["uid"], "staff member")


def save_place(conn, actor, place: dict) -> tuple[dict, bool]:
    """Add or update a validated public-order place (cell from its point); no commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        _owner(cur, actor, "place", place["uid"])
        cell = _cell(cur, actor, place, "place")
        org_id = _org_ref(cur, actor, place["org"], required=False)
        cur.execute(sql("reg_place_upsert"), {**place, "region_code": actor.region_code, "cell_code": cell,
                                              "org_id": org_id})
        return _stored(cur.fetchone(), place["uid"], "place")


def save_school(conn, actor, school: dict) -> tuple[dict, bool]:
    """Add or update a validated school (cell from its point); no commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        _owner(cur, actor, "school", school["uid"])
        cell = _cell(cur, actor, school, "school")
        cur.execute(sql("reg_school_upsert"), {**school, "region_code": actor.region_code, "cell_code": cell})
        return _stored(cur.fetchone(), school["uid"], "school")


def save_line(conn, actor, line: dict) -> tuple[dict, bool]:
    """Add or update a protected line whose responsible unit lies in the jurisdiction; no commit."""
    _may_edit(actor)
    with conn.cursor() as cur:
        _owner(cur, actor, "line", line["uid"])
        cur.execute("SELECT 1 FROM grid_unit WHERE code = %s AND region_code = %s",
                    (line["unit_code"], actor.region_code))
        if cur.fetchone() is None:
            raise Invalid("no such unit", {"unit_code": "a grid unit code of the county"})
        _cover(actor, line["unit_code"], "line")
        cur.execute(sql("reg_line_upsert"), {**line, "region_code": actor.region_code})
        return _stored(cur.fetchone(), line["uid"], "line")


VALIDATE = {"org": validate_org, "staff": validate_staff, "place": validate_place, "school": validate_school,
            "line": validate_line}
SAVE = {"org": save_org, "staff": save_staff, "place": save_place, "school": save_school, "line": save_line}


def staff_of(conn, actor, org_id: int) -> list[dict]:
    """The staff of an organisation of the jurisdiction: names masked for roles without
    ``personal`` (their reveal noted), phones always masked."""
    with conn.cursor() as cur:
        _org_ref(cur, actor, org_id, required=True)
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_staff_of"), {"org_id": org_id, "region_code": actor.region_code})
        rows = [dict(r) for r in cur.fetchall()]
    out = []
    for r in rows:
        masked, revealed = policy.mask_record(actor, r, STAFF_FIELDS)
        policy.note_reveal(f"org_staff:{r['id']}", revealed, actor=actor)
        out.append(masked)
    return out
