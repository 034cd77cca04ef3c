"""Weekly and monthly bulletins (周分析、月汇总) of a unit as PDF or XLSX: built from the
dashboard's own statistics (``content``), written all-or-nothing into a private folder, kept
and listed (table ``bulletin``), audited like every export."""
from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from data import bulletins
from data.audit import audit
from db.core import connect
from domain import policy
from exports import jobs
from exports.bulletin import content, pdf, xlsx
from exports.bulletin.period import Period, last_finished, parse
from layers.base import LayerError

FORMATS = ("pdf", "xlsx")
LANGS = ("zh", "en")
ROLES = ("admin", "dispatcher", "leader", "analyst")  # who reads the unit's figures
WRITERS = {"pdf": pdf.write, "xlsx": xlsx.write}
__all__ = ["FORMATS", "LANGS", "Period", "parse", "generate", "directory", "file_path", "due", "Refused",
           "Outside"]


class Refused(LayerError):
    """A bulletin request that cannot be met as asked (period, format, language, role)."""

    status = 422


class Outside(LayerError, PermissionError):
    """The unit lies outside the caller's jurisdiction, or the caller may not read bulletins."""

    status = 403


def directory() -> Path:
    """Where bulletins are kept: ``bulletins/`` beside the export folder (0700)."""
    path = jobs.directory().parent / "bulletins"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def file_path(row: dict, base: Path | None = None) -> Path:
    """The file of a kept bulletin."""
    return (base or directory()) / str(uuid.UUID(str(row["id"]))) / row["file_name"]


def check(actor, unit: str | None, period: str, fmt: str, lang: str) -> tuple[str, Period]:
    """The unit (inside the caller's jurisdiction) and period; ``Refused`` or ``Outside`` otherwise."""
    if actor.role not in ROLES:
        raise Outside(f"role {actor.role} does not read bulletins")
    if fmt not in FORMATS:
        raise Refused(f"format: one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise Refused(f"lang: one of {', '.join(LANGS)}")
    try:
        p = parse(period)
    except ValueError as exc:
        raise Refused(f"period: {exc}") from None
    if unit is not None and (not isinstance(unit, str) or not unit.isdigit() or len(unit) > 18):
        raise Refused("unit: a grid unit code (digits)")
    try:
        scope = policy.narrow(actor, unit)
    except policy.OutsideJurisdiction as exc:
        raise Outside(str(exc)) from None
    return scope, p


def generate(dsn: str, actor, unit: str | None, period: str, fmt: str = "pdf", lang: str = "zh", *,
             scheduled: bool = False, now: datetime | None = None, base: Path | None = None,
             out: Path | None = None) -> dict:
    """Build, write, keep (and audit) one bulletin; returns its register row. With ``out`` the
    file is also copied there (the command line)."""
    scope, p = check(actor, unit, period, fmt, lang)
    now = now or datetime.now(UTC)
    try:
        b = content.build(dsn, actor.region_code, scope, p, now)
    except LookupError as exc:
        raise Refused(str(exc)) from None
    for c in b.children:  # small people counts point at households: suppressed as on the dashboard
        c["population"] = policy.suppress(actor, c["population"])
    bid = str(uuid.uuid4())
    folder = jobs.job_folder(bid, base or directory())
    name = f"bulletin-{scope}-{p.text}-{lang}.{fmt}"
    tmp = folder / f".{name}.part"
    try:
        WRITERS[fmt](b, lang, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    row = {"id": bid, "region_code": actor.region_code, "unit_code": scope, "period": p.text, "format": fmt,
           "lang": lang, "file_name": name, "size_bytes": (folder / name).stat().st_size, "scheduled": scheduled,
           "created_by": actor.username}
    conn = connect(dsn)
    try:
        bulletins.record(conn, row)
        audit(conn, actor, "bulletin", "unit", scope, {"period": p.text, "format": fmt, "lang": lang, "id": bid})
        conn.commit()
    finally:
        conn.close()
    if out is not None:
        out.write_bytes((folder / name).read_bytes())
    return row


SCHEDULE_LOCK = 0x0B011E  # advisory lock: one scheduled run per database at a time


def due(dsn: str, actor, today, fmt: str = "pdf", lang: str = "zh", base: Path | None = None) -> list[dict]:
    """The scheduled run: last week's and last month's bulletins of the banner and each town that
    are not kept yet (idempotent: run it every day, or every hour); nothing while another run holds
    the schedule's lock."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (SCHEDULE_LOCK,))
            if not cur.fetchone()[0]:
                return []
        conn.commit()  # the session lock stays until the connection closes
        return _due(dsn, actor, today, fmt, lang, base)
    finally:
        conn.close()


def _due(dsn: str, actor, today, fmt: str, lang: str, base: Path | None) -> list[dict]:
    made = []
    for kind in ("week", "month"):
        p = last_finished(kind, today)
        for unit in bulletins.schedule_units(dsn, actor.region_code):
            kept = bulletins.listing(dsn, actor.region_code, unit, unit=unit, period=p.text, fmt=fmt, lang=lang,
                                     limit=1)
            if not kept:
                made.append(generate(dsn, actor, unit, p.text, fmt, lang, scheduled=True, base=base))
    return made
