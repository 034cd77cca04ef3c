"""Time at the edge: instants are stored and moved in UTC and shown in the region's time zone.

The zone always comes from the database (``region.timezone``), never from a constant here.
``iso_local`` writes the same text as the SQL function ``iso_local(at, tz)`` of
``db/migrations/0010_phase.sql`` (tests/test_phase.py compares them). Parsing of time
*parameters* is web/params.py's job; ``as_instant`` only reads back what our own JSON wrote.
"""
from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    """The ``ZoneInfo`` called ``tz`` (an IANA name such as the region row's)."""
    return ZoneInfo(tz)


def as_instant(value: datetime | str) -> datetime:
    """An aware datetime from a datetime or from ISO 8601 text we wrote (with its offset)."""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset: instants must carry one")
    return dt


def to_local(value: datetime | str, tz: str) -> datetime:
    """The instant ``value`` as wall-clock time in ``tz``."""
    return as_instant(value).astimezone(zone(tz))


def fmt_local(value: datetime | str | None, tz: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``value`` formatted as wall-clock time in ``tz`` ("" for None): what people read."""
    return "" if value is None else to_local(value, tz).strftime(pattern)


def iso_local(value: datetime | str | None, tz: str) -> str | None:
    """ISO 8601 in ``tz`` with its offset ("2026-06-15T18:30:00+08:00"): what JSON carries."""
    return None if value is None else to_local(value, tz).isoformat()


def local_date(value: datetime, tz: str) -> date:
    """The calendar day in ``tz`` on which the instant ``value`` falls."""
    return to_local(value, tz).date()


def day_start(day: date, tz: str) -> datetime:
    """The instant a local calendar day begins in ``tz``."""
    return datetime.combine(day, time(), zone(tz))
