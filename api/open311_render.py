"""Open311 GeoReport v2 output: our incidents and categories as the spec's fields, in JSON or XML.

Pure functions of database rows (no Flask, no I/O), so the field mapping is tested directly.

Status: Open311 knows only ``open`` and ``closed``; it follows the incident's phase
(db/migrations/0010_phase.sql, domain/phase.py): ``open`` while someone still has to act (new …
on_site), ``closed`` once the work is done (resolved, verified) or the case has ended (closed,
rejected). The status_notes say when a resolved case still awaits verification. Times are W3C
date-times in the region's zone with its offset (domain.clock).
"""
from __future__ import annotations

import re
from datetime import datetime
from xml.etree import ElementTree as ET

from domain import clock
from i18n import gettext
from i18n import words as words_of

# The words (GB/T 31000-2015's nine basic databases and the local "X" one, levels, actions) are
# in the gettext catalogues, i18n/*/LC_MESSAGES/onemap.po, under open311.*.


def status(closed: bool) -> str:
    """Open311's status for our state (see the module docstring)."""
    return "closed" if closed else "open"


def w3c(t: datetime | None, tz: str) -> str | None:
    """A time as W3C-DTF in the region's zone, to the second (``2026-06-15T18:30:00+08:00``)."""
    return None if t is None else clock.to_local(t, tz).isoformat(timespec="seconds")


def _pick(lang: str, zh: str | None, en: str | None) -> str | None:
    return (en or zh) if lang == "en" else (zh or en)


def service(row: dict, lang: str) -> dict:
    """One incident category as an Open311 service (no attributes: metadata is false)."""
    w = words_of(lang)["open311"]
    domain = w["domain"].get(row["gbt31000_domain"], w["domain"]["x"])
    name = _pick(lang, row["name"], row["name_en"])
    other = row["name"] if lang == "en" else row["name_en"]
    words = row["code"].split("_") + [row["department_kind"]]
    keywords = list(dict.fromkeys([row["name"], row["name_en"].lower(), *words]))
    return {
        "service_code": row["code"],
        "service_name": name,
        "description": gettext(lang, "open311.description", name=name, other=other, domain=domain),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": domain,
    }


def status_notes(row: dict, lang: str) -> str | None:
    """The last state change in words, with its note (a report's note is the description itself)."""
    action = row["last_action"]
    if action is None:
        return None
    w = words_of(lang)["open311"]
    department = _pick(lang, row["department_name"], row["department_name_en"]) or ""
    said = w["action"].get(action, action).format(department=department,
                                                  level=w["level"].get(row["last_level"], ""))
    note = row["last_note"] if action != "report" else None
    if note:
        return gettext(lang, "open311.with_note", words=said, note=note)
    return said


def _unit_name(row: dict, level: int, lang: str) -> str | None:
    prefix = {4: "cell", 3: "village", 2: "town", 1: "banner"}[level]
    return _pick(lang, row[f"{prefix}_name"], row[f"{prefix}_name_en"])


def address(row: dict, lang: str) -> str:
    """Town, village and cell names: big to small run together in Chinese, small to big in English."""
    town, village, cell = (_unit_name(row, lvl, lang) for lvl in (2, 3, 4))
    if village and cell and cell.startswith(village):
        village = None  # cells are usually named after their village ("X社区第1网格"): say it once
    parts = [p for p in (town, village, cell) if p]
    return ", ".join(reversed(parts)) if lang == "en" else "".join(parts)


def agency(row: dict, lang: str) -> str | None:
    """Who handles the case now: the dispatched department, else the unit at the handling level."""
    if row["department_code"]:
        return _pick(lang, row["department_name"], row["department_name_en"]) or row["department_code"]
    return _unit_name(row, row["handling_level"], lang)


def service_notice(row: dict, lang: str) -> str | None:
    """What happens next: the level handling the case and its deadline (None once closed)."""
    if row["closed"]:
        return None
    due = clock.fmt_local(row["due_at"], row["timezone"])
    return gettext(lang, "open311.notice", level=words_of(lang)["open311"]["level"][row["handling_level"]], due=due)


def request(row: dict, lang: str) -> dict:
    """One incident as an Open311 service request, with our grid as extension fields."""
    tz = row["timezone"]
    return {
        "service_request_id": str(row["id"]),
        "status": status(row["closed"]),
        "status_notes": status_notes(row, lang),
        "service_name": _pick(lang, row["category_name"], row["category_name_en"]),
        "service_code": row["category_code"],
        "description": row["description"],
        "agency_responsible": agency(row, lang),
        "service_notice": service_notice(row, lang),
        "requested_datetime": w3c(row["received_at"], tz),
        "updated_datetime": w3c(row["updated_at"], tz),
        "expected_datetime": None if row["closed"] else w3c(row["due_at"], tz),
        "address": address(row, lang),
        "address_id": row["cell_code"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["media_url"],
        # extensions (GeoReport v2 allows extra fields): our grid and deadline
        "grid_code": row["cell_code"],
        "handling_level": row["handling_level"],
        "due_at": w3c(row["due_at"], tz),
        "overdue": bool(row["overdue"]),
    }


def errors(status_code: int, descriptions: list[str]) -> list[dict]:
    """The spec's error body: a list of ``{"code", "description"}``."""
    return [{"code": status_code, "description": d} for d in descriptions]


# -- XML --------------------------------------------------------------------------------------
# The spec's XML is the JSON's tree with a named root and named list items; these are the names.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold
XML_ITEMS = {"services": "service", "service_requests": "request", "errors": "error",
             "endpoints": "endpoint", "formats": "format", "attributes": "attribute"}


def _xml_value(parent: ET.Element, key: str, value) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif isinstance(value, list):
        for item in value:
            _xml_value(el, XML_ITEMS.get(key, "item"), item)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = _NOT_XML.sub("\ufffd", str(value))


def to_xml(root: str, value) -> bytes:
    """``value`` (a dict or a list) as the spec's XML document under ``root``."""
    holder = ET.Element("holder")
    _xml_value(holder, root, value)
    return ET.tostring(holder[0], encoding="utf-8", xml_declaration=True)
