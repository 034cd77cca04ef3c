"""Excel sheets of the local "X" record types (``x:<code>``): the columns come from the type's
declaration (its Chinese labels; a choice field gets a drop-down list, a yes/no field 是/否), after
the record's UUID and cell; imports and exports follow ``data.registry_xlsx`` (all or nothing,
errors by row and column, a UUID derived from the content when the row has none). A type that
names people needs the ``people_export`` class to export, like the people sheet.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, BinaryIO

from data import registry, registry_groups
from data import registry_xlsx as rx
from data.incidents import Forbidden, IncidentError, NotFound
from db.core import dict_cursor, sql
from domain import policy

PREFIX = "x:"
YES_NO = {"true": "是", "false": "否"}


def code_of(kind: str) -> str | None:
    """The local type's code of a sheet kind ``x:<code>``, else None."""
    return kind[len(PREFIX):] if kind.startswith(PREFIX) else None


def _declared(conn, actor, code: str) -> dict:
    found = registry_groups.kinds(conn, actor, code)
    if not found:
        raise NotFound(f"no local record type {code!r} in your region")
    return found[0]


def columns(declared: dict) -> tuple[rx.Column, ...]:
    """The sheet's columns: the UUID, the cell, then one per declared field."""
    cols = [rx.Column("uid", "记录编号"), rx.Column("cell_code", "所属网格", text=True)]
    for f in declared["fields"]:
        choices = ({c: c for c in f["choices"]} if f["type"] == "choice" else YES_NO if f["type"] == "bool" else None)
        cols.append(rx.Column(f"data.{f['key']}", str(f["label"]).strip(), choices))
    return tuple(cols)


def template(conn, actor, kind: str) -> bytes:
    """An empty sheet for the local type of ``kind`` (``x:<code>``)."""
    declared = _declared(conn, actor, code_of(kind) or "")
    return rx._workbook(kind, [], columns(declared), declared["name"])


def export(conn, actor, kind: str, unit: str | None = None) -> tuple[bytes, int]:
    """The records of a local type in the jurisdiction as xlsx and their count; audited, no commit."""
    code = code_of(kind) or ""
    declared = _declared(conn, actor, code)
    cls = policy.PEOPLE_EXPORT if declared["personal"] else policy.REGISTRY_EDIT
    if not policy.sees(actor, cls):
        raise Forbidden(f"role {actor.role} may not export the {code} records")
    scope = registry._scope(actor, unit)
    with dict_cursor(conn) as cur:
        cur.execute(sql("reg_export_x"), {"region_code": actor.region_code, "kind": code, "scope": scope})
        rows = [{"uid": r["uid"], "cell_code": r["cell_code"],
                 **{f"data.{k}": (str(v).lower() if isinstance(v, bool) else v) for k, v in r["data"].items()}}
                for r in cur.fetchall()]
    registry.audit_export(conn, actor, kind, scope, len(rows))
    return rx._workbook(kind, rows, columns(declared), declared["name"]), len(rows)


def _value(spec: dict, value: Any) -> Any:
    """A cell's value as the declaration's type wants it (the check itself is ``check_record``'s)."""
    if value is None:
        return None
    if spec["type"] == "bool":
        return {"true": True, "false": False}.get(str(value), value)
    if spec["type"] in ("int", "float") and isinstance(value, str):
        try:
            return float(value) if spec["type"] == "float" else int(value)
        except ValueError:
            return value
    if spec["type"] == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec["type"] == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def import_file(conn, actor, kind: str, source: str | Path | bytes | BinaryIO) -> int:
    """Import a sheet of a local type, all or nothing (commits), like ``registry_xlsx.import_file``."""
    code = code_of(kind) or ""
    declared = _declared(conn, actor, code)
    cols = columns(declared)
    specs = {f["key"]: f for f in declared["fields"]}
    rows, errors = rx.read(kind, source, cols)
    for n, record in rows:
        data = {k[5:]: _value(specs[k[5:]], v) for k, v in record.items() if k.startswith("data.")}
        payload = {"uid": record.get("uid"), "cell_code": record.get("cell_code"),
                   "data": {k: v for k, v in data.items() if v is not None}}
        if not payload["uid"]:
            content = "|".join(f"{k}={data.get(k)}" for k in sorted(specs))
            payload["uid"] = str(uuid.uuid5(rx.NAMESPACE, f"{kind}|{payload['cell_code']}|{content}"))
        try:
            registry_groups.save_record(conn, actor, code, payload)
        except IncidentError as exc:
            errors += rx.refusals(n, kind, exc, cols)
    return rx.finish(conn, actor, kind, len(rows), errors)


# -- one entry for every sheet kind (the command line and the API) --------------------------

def import_sheet(conn, actor, kind: str, source: str | Path | bytes | BinaryIO) -> int:
    """Import a sheet of any registry (``x:<code>`` for a local type), all or nothing."""
    if code_of(kind) is not None:
        return import_file(conn, actor, kind, source)
    return rx.import_file(conn, actor, kind, source)


def export_sheet(conn, actor, kind: str, unit: str | None = None) -> tuple[bytes, int]:
    """Export any registry's sheet (``x:<code>`` for a local type); audited, no commit."""
    if code_of(kind) is not None:
        return export(conn, actor, kind, unit)
    return rx.export(conn, actor, kind, unit)
