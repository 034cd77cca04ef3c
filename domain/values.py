"""The one definition of what a parameter value may be: times, boxes, bounded numbers, lists, text.

Pure functions (no I/O, no web framework), so every layer can use them: the web parameter models
(``web/params.py``), the layer registry, the data layer's body checks and the command line. Each
refuses a bad value with ``ValueError`` whose message names what to send instead; the caller adds
the parameter name and the HTTP status.

Times (one rule for every surface):
- a date-time must carry its zone: ``Z`` or an offset, e.g. ``2026-06-01T08:00:00+08:00``; a
  naive date-time is refused, because whose clock it is cannot be known;
- a plain date ``2026-06-01`` is that calendar day in the region's time zone (its start, or its
  last microsecond when it ends a range);
- a '+' that a client left unencoded arrives as a space (``…T08:00 08:00``) and is restored;
- years 1900–2200 only, and UTC offsets up to ±15:59, because PostgreSQL refuses offsets of 16
  hours or more and Python cannot shift year 1 or 9999 across midnight; outside these the answer
  is a 4xx, never a server error.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

YEAR_MIN, YEAR_MAX = 1900, 2200
OFFSET_MAX = timedelta(hours=15, minutes=59)
TEXT_MAX = 1000          # a query parameter or a short field
LIST_MAX = 200           # items in a comma list
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
TIME_EXAMPLE = "2026-06-01 or 2026-06-01T08:00:00+08:00"


def clean_text(value: str, max_length: int = TEXT_MAX) -> str:
    """``value`` unchanged if it is storable text: no NUL or other control characters except
    tab/newline, no lone surrogates, at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if len(value) > max_length:
        raise ValueError(f"at most {max_length} characters (got {len(value)})")
    for ch in value:
        if ch in "\t\n\r":
            continue
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise ValueError("contains a lone surrogate (not valid Unicode); send UTF-8 text")
        if cat == "Cc":
            raise ValueError(f"contains the control character U+{ord(ch):04X}; remove it")
    return value


def storable_text(value: str) -> str:
    """``value`` if PostgreSQL can store it as text: no NUL, no lone surrogates (free text such as
    a description may hold other control characters; outputs that cannot, like XML, drop them)."""
    if "\x00" in value:
        raise ValueError("contains a NUL character (U+0000); remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (not valid Unicode); send UTF-8 text") from None
    return value


def bounded_int(text: str | int, lo: int, hi: int) -> int:
    """A whole number from ``lo`` to ``hi`` (decimal digits only: no 1e23, no 1.0)."""
    if isinstance(text, bool):
        raise ValueError(f"an integer from {lo} to {hi}")
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", raw):
            raise ValueError(f"an integer from {lo} to {hi}, not {raw[:40]!r}")
        value = int(raw)
    if not lo <= value <= hi:
        raise ValueError(f"an integer from {lo} to {hi}")
    return value


def finite_float(text: str | float, lo: float, hi: float) -> float:
    """A finite decimal number from ``lo`` to ``hi``."""
    try:
        value = float(text) if not isinstance(text, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"a number from {lo:g} to {hi:g}")
    return value


def bbox(text: str | list[Any] | tuple[Any, ...]) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees (a string or four numbers), west < east, south < north."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = tuple(float(v) for v in parts)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError("four numbers west,south,east,north in degrees")
    w, s, e, n = values
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise ValueError("west,south,east,north in degrees with west < east and south < north")
    return w, s, e, n


def comma_list(text: str | list[Any] | tuple[Any, ...] | None, max_items: int = LIST_MAX) -> tuple[str, ...] | None:
    """Comma-separated (or repeated) values, blanks dropped; None when nothing was given."""
    if not text:
        return None
    if not isinstance(text, (str, list, tuple)):
        raise ValueError("a list of strings (or one comma-separated string)")
    items = [text] if isinstance(text, str) else list(text)
    if not all(isinstance(i, str) for i in items):
        raise ValueError("a list of strings (or one comma-separated string)")
    out = tuple(v.strip() for item in items for v in item.split(",") if v.strip())
    if len(out) > max_items:
        raise ValueError(f"at most {max_items} values")
    for v in out:
        clean_text(v, 200)
    return out or None


def check_time(t: datetime) -> datetime:
    """``t`` if it is aware, within years 1900–2200 and has an offset PostgreSQL accepts."""
    offset = t.utcoffset()
    if offset is None:
        raise ValueError(f"needs a time zone, e.g. {TIME_EXAMPLE}")
    if abs(offset) > OFFSET_MAX:
        raise ValueError("the UTC offset must be within ±15:59")
    if not YEAR_MIN <= t.year <= YEAR_MAX:
        raise ValueError(f"the year must be from {YEAR_MIN} to {YEAR_MAX}")
    return t


def parse_time(text: str, tz: str, end: bool = False) -> datetime:
    """An aware time from an ISO 8601 / W3C date-time with a zone, or a plain date in ``tz``
    (the day's start, or its last microsecond for ``end``); see the module docstring."""
    if not isinstance(text, str):
        raise ValueError(f"an ISO 8601 time as a string, e.g. {TIME_EXAMPLE}")
    raw = clean_text(text, 64).strip()
    if _DATE_ONLY.match(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a calendar date") from None
        if not YEAR_MIN <= day.year <= YEAR_MAX:
            raise ValueError(f"the year must be from {YEAR_MIN} to {YEAR_MAX}")
        start = datetime.combine(day, time.min, ZoneInfo(tz))
        return start + timedelta(days=1) - timedelta(microseconds=1) if end else start
    raw = _SPACED_OFFSET.sub(r"+\1", raw)
    if raw[-1:] in "zZ":
        raw = raw[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw[:40]!r} is not an ISO 8601 date or time, e.g. {TIME_EXAMPLE}") from None
    return check_time(t)
