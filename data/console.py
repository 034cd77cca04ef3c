"""The dispatch console's reads: a filtered, sorted page of incidents, the work queues, search,
and the departments to dispatch to — each within the caller's jurisdiction (``domain.policy``)
and masked for their role (``data.policy``), exactly as the API reads them.

Actions go through ``data.incidents.act`` (with the version the user saw); nothing here writes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from psycopg2 import sql as psql

from data.incidents import Forbidden, Invalid
from data.policy import incidents_out
from db.core import local_settings, sql
from domain import clock, phase, policy

PAGE_MAX = 200  # rows per page, at most
MANY = 20  # the planner expects more than MANY × the count cap: read in index order, stop early
COUNT_CAP = 10_000  # the table's count is exact up to this; past it, "more than" (page's total: COUNT_CAP + 1)
QUEUES = ("new", "overdue", "escalated")
SEARCH_MAX = 20
TEXT_MAX = 100
_NUMBER = re.compile(r"^[0-9a-fA-F-]{1,36}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# the console's roles: who works incidents there, and the leaders who may look (read-only)
WORK_ROLES = frozenset({"admin", "dispatcher", "department"})
VIEW_ROLES = WORK_ROLES | {"leader"}


@dataclass(frozen=True)
class Query:
    """The table's filters, already checked (``parse_query``)."""

    number: str | None = None
    text: str | None = None
    categories: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    departments: tuple[str, ...] | None = None
    levels: tuple[int, ...] | None = None
    overdue: bool = False
    since: date | None = None
    until: date | None = None  # inclusive: the last local day shown
    queue: str | None = None
    unit: str | None = None
    errors: dict[str, str] = field(default_factory=dict, compare=False)


def _day(value, key: str, errors: dict[str, str]) -> date | None:
    """A ``YYYY-MM-DD`` day, or None with an error noted."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        day = date.fromisoformat(text)
        if not 1970 <= day.year <= 2200:  # (year 1 or 9999 would overflow a time zone's shift)
            raise ValueError
        return day
    except ValueError:
        errors[key] = "YYYY-MM-DD"
        return None


def _text(value, limit: int) -> str | None:
    """A filter's text: a string or number as text (no NUL, no lone surrogate), trimmed to
    ``limit``; else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return text.strip()[:limit] or None


def _strings(value, allowed: set[str] | None = None) -> tuple[str, ...] | None:
    """A list filter's values as text (at most 50), only those in ``allowed`` when given."""
    items = tuple(filter(None, (_text(v, 64) for v in (value if isinstance(value, (list, tuple)) else [value]))))[:50]
    return tuple(v for v in items if allowed is None or v in allowed) or None


def parse_query(raw: dict) -> Query:
    """The filters from the console's controls (anything malformed is dropped and named in ``errors``)."""
    errors: dict[str, str] = {}
    number = _text(raw.get("number"), 64)
    if number and not _NUMBER.match(number):
        errors["number"] = "hex digits of the incident number"
        number = None
    text = _text(raw.get("text"), TEXT_MAX)
    levels = tuple(int(v) for v in (_strings(raw.get("levels"), {"1", "2", "3", "4"}) or ())) or None
    since, until = _day(raw.get("since"), "since", errors), _day(raw.get("until"), "until", errors)
    if since and until and since > until:
        errors["until"] = "not before the first day"
        until = None
    queue = raw.get("queue") if raw.get("queue") in QUEUES else None
    unit = _text(raw.get("unit"), 15)
    if unit and not (unit.isascii() and unit.isdigit()):
        unit = None
    return Query(number=number and number.lower(), text=text, categories=_strings(raw.get("categories")),
                 states=_strings(raw.get("states"), set(phase.STATES)), departments=_strings(raw.get("departments")),
                 levels=levels, overdue=raw.get("overdue") is True, since=since, until=until, queue=queue,
                 unit=unit, errors=errors)


def _bind(actor, q: Query, tz: str, now: datetime) -> dict:
    """The bound parameters of ``console_filter.sql`` for ``actor`` and ``q``."""
    unit = q.unit
    if unit and actor.unit_code.startswith(unit):
        unit = None  # at or above the jurisdiction: all of it
    try:
        rows = policy.row_params(actor, unit)
    except policy.OutsideJurisdiction as exc:
        raise Forbidden(str(exc)) from None
    return {**rows, "number": q.number, **_id_range(q.number), "text": q.text,
            "personal": policy.sees(actor, policy.PERSONAL),
            "categories": list(q.categories) if q.categories else None,
            "states": list(q.states) if q.states else None,
            "departments": list(q.departments) if q.departments else None,
            "levels": list(q.levels) if q.levels else None, "overdue": q.overdue,
            "since": clock.day_start(q.since, tz) if q.since else None,
            "until": clock.day_start(q.until + timedelta(days=1), tz) if q.until else None,
            "queue": q.queue, "my_level": my_level(actor), "now": now}


def my_level(actor) -> int:
    """The handling level of the caller's own unit: 1 banner, 2 town, 3 village, 4 cell."""
    return max(1, min(4, (len(actor.unit_code) - 3) // 3))


# the sort keys: the column each orders by (text in code-point order, as the ids and codes are)
_SORT_SQL = {"received_at": "f.received_at", "due_at": "f.due_at", "id": "f.id",
             "state": 'f.state COLLATE "C"', "category": 'f.category_code COLLATE "C"',
             "department": 'f.department_code COLLATE "C"', "cell": "f.cell_code", "level": "f.handling_level"}
SORTS = tuple(_SORT_SQL)  # what the table may sort by
_UUID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"


def _id_range(number: str | None) -> dict:
    """The ids an incident-number prefix can start (``id_lo``..``id_hi``), for an index range; a
    prefix that no id can start (dashes out of place) gives an empty range."""
    if not number:
        return {"id_lo": None, "id_hi": None}
    shape = _UUID_SHAPE[:len(number)]
    if any((a == "-") != (b == "-") for a, b in zip(number, shape, strict=True)):
        return {"id_lo": "ffffffff-ffff-ffff-ffff-ffffffffffff", "id_hi": "00000000-0000-0000-0000-000000000000"}
    rest = _UUID_SHAPE[len(number):]
    return {"id_lo": number + rest.replace("x", "0"), "id_hi": number + rest.replace("x", "f")}


def _order(sort: str, desc: bool) -> psql.Composable:
    """ORDER BY for ``sort`` (one of ``SORTS``), then the newest first and the id, composed from
    the fixed list above (no input reaches the text)."""
    key = _SORT_SQL.get(sort, _SORT_SQL["received_at"])
    direction = "DESC" if desc else "ASC"
    tail = "f.id" if sort == "received_at" else "f.received_at DESC, f.id"
    return psql.SQL(f"{key} {direction}, {tail}")


def page(conn, actor, q: Query, *, tz: str, sort: str = "received_at", desc: bool = True, start: int = 0,
         end: int = 50, now: datetime | None = None, count_cap: int = COUNT_CAP) -> tuple[list[dict], int]:
    """Rows ``start``..``end`` of the incidents the actor may see that match ``q``, sorted by
    ``sort`` (one of ``SORTS``), masked for the actor; and how many match in all, exactly up to
    ``count_cap`` (``count_cap + 1`` means more than that).

    Two plans, chosen by the planner's estimate of the matches: many (the whole jurisdiction, a
    month): the page is read in index order and stops after it, the count after the cap; few (a
    queue, overdue, a number): the matches are found first, then counted and sorted. Free text is
    counted first, from the characters' index (0045): more than the cap is many, else few."""
    now = now or datetime.now(timezone.utc)
    start = max(0, int(start))
    limit = max(1, min(PAGE_MAX, int(end) - start))
    where = psql.SQL(sql("console_filter"))
    with local_settings(conn), conn.cursor() as cur:  # (free text sets planner settings for itself)
        bind = {**_bind(actor, q, tz, now), **_text_names(cur, actor, q), "limit": limit, "offset": start,
                "cap": int(count_cap)}
        total = _text_count(cur, where, bind) if q.text else None
        many = total > bind["cap"] if total is not None else _many(cur, where, bind)
        if total is not None and many and sort in _STOP_EARLY:
            _read_in_order(cur)
        cur.execute(psql.SQL(sql("console_page")).format(filter=where, order=_order(sort, bool(desc)),
                                                         materialized=_materialized(many)), bind)
        rows = cur.fetchone()[0]
        if total is None:
            total = _count(cur, where, bind, many)
    conn.rollback()
    return incidents_out(actor, rows), total


# The sorts an index serves in order (received_at, 0043's due_at, the id): with free text matching
# more than the cap, the page is read in that order and stops after it.
_STOP_EARLY = ("received_at", "due_at", "id")


def _text_count(cur, where: psql.Composable, bind: dict) -> int:
    """Free text's matches up to the cap + 1, from the characters' index; with the memory to keep
    its bitmap exact (4 MB made it lossy at 10M incidents: every row of a lossy page rechecked)."""
    cur.execute("SET LOCAL work_mem = '64MB'")
    return _count(cur, where, bind, True)


def _read_in_order(cur) -> None:
    """For free text known to match more than the cap: the plan that reads in the sort's index
    order and stops after the page. The planner cannot find it alone: it takes a text's characters
    as independent, so "垃圾" is expected in 1,100 of 10M rows (194,000 hold it), and it would
    fetch and sort every match (6 s at 10M) rather than read the newest until 50 match (11 ms)."""
    # (and no JIT: the costs these settings add would make it compile the query, 0.3 s)
    for setting in ("enable_bitmapscan", "enable_seqscan", "enable_sort", "jit"):
        cur.execute(f"SET LOCAL {setting} = off")  # names from this fixed list
    cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _text_names(cur, actor, q: Query) -> dict:
    """The categories and cells whose names hold the free text (``text_categories``, ``text_cells``;
    None when none or no text), for console_filter.sql."""
    if not q.text:
        return {"text_categories": None, "text_cells": None}
    cur.execute(sql("console_text_names"), {"text": q.text, "region_code": actor.region_code})
    categories, cells = cur.fetchone()
    return {"text_categories": categories, "text_cells": cells}


def _many(cur, where: psql.Composable, bind: dict) -> bool:
    """Whether the planner expects more than MANY × the cap matches. Not for free text: its
    estimate from the characters' index is far off, so the capped count decides (``page``)."""
    cur.execute(psql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM ({}) f").format(where), bind)
    return cur.fetchone()[0][0]["Plan"]["Plan Rows"] > MANY * bind["cap"]


def _materialized(many: bool) -> psql.Composable:
    """The CTE's keyword: inlined (read in index order, stop early) for many matches, else a fence."""
    return psql.SQL("NOT MATERIALIZED" if many else "MATERIALIZED")


def _count(cur, where: psql.Composable, bind: dict, many: bool) -> int:
    """The matches counted up to the cap + 1, by the plan ``many`` chose."""
    limit = psql.SQL("LIMIT %(cap)s + 1" if many else "")
    cur.execute(psql.SQL(sql("console_count")).format(filter=where, limit=limit), bind)
    return min(int(cur.fetchone()[0]), bind["cap"] + 1)


def count(conn, actor, q: Query, *, tz: str, now: datetime | None = None, count_cap: int = COUNT_CAP) -> int:
    """How many incidents the actor may see match ``q``, exactly up to ``count_cap``."""
    where = psql.SQL(sql("console_filter"))
    with local_settings(conn), conn.cursor() as cur:
        bind = {**_bind(actor, q, tz, now or datetime.now(timezone.utc)), **_text_names(cur, actor, q),
                "cap": int(count_cap)}
        total = _text_count(cur, where, bind) if q.text else _count(cur, where, bind, _many(cur, where, bind))
    conn.rollback()
    return total


def queue_counts(conn, actor, *, tz: str, now: datetime | None = None) -> dict[str, int]:
    """How many incidents wait in each queue (new, overdue, escalated to my level)."""
    now = now or datetime.now(timezone.utc)
    return {name: count(conn, actor, Query(queue=name), tz=tz, now=now) for name in QUEUES}


def search(conn, actor, text: str, limit: int = 12) -> list[dict]:
    """Incidents by number, places by name (grid unit, facility) and roads by name, within the
    caller's jurisdiction: ``kind``, ``ref``, names, a point and bounds to zoom to."""
    text = (text or "").strip()[:TEXT_MAX]
    if len(text) < 1:
        return []
    rows = policy.row_params(actor)
    with conn.cursor() as cur:
        cur.execute(sql("console_search"), {**rows, "q": text, "limit": max(1, min(SEARCH_MAX, limit))})
        found = cur.fetchall()
    conn.rollback()
    return [{"kind": k, "ref": ref, "name": n, "name_en": ne, "detail": d, "lon": x, "lat": y,
             "bounds": [[ymin, xmin], [ymax, xmax]]}
            for k, ref, n, ne, d, x, y, xmin, ymin, xmax, ymax in found]


def departments(conn, region_code: str, category: str | None = None) -> list[dict]:
    """The region's departments (code, names), the category's default first and marked ``suggested``."""
    with conn.cursor() as cur:
        cur.execute(sql("console_departments"), {"region_code": region_code, "category": category})
        found = [{"code": c, "name": n, "name_en": ne, "suggested": s} for c, n, ne, s in cur.fetchall()]
    conn.rollback()
    return found


def categories(conn) -> list[dict]:
    """Every incident category (code, names) in its sort order."""
    with conn.cursor() as cur:
        cur.execute(sql("export_categories"))
        found = [{"code": c, "name": n, "name_en": ne} for c, n, ne in cur.fetchall()]
    conn.rollback()
    return found


def console_actions(actor, allowed: list[str]) -> list[str]:
    """The actions the console offers: what ``data.incidents.allowed_actions`` allows, none for a
    leader (they look on the console; they act on the map) or a read-only session."""
    if actor.role not in WORK_ROLES or getattr(actor, "read_only", False):
        return []
    return [a for a in ACTION_ORDER if a in allowed]


ACTION_ORDER = ("accept", "dispatch", "start", "arrive", "resolve", "verify", "close", "reject", "reopen", "escalate")


def check_reason(action: str, note: str | None) -> str | None:
    """The note an action carries: a reject needs a reason (``Invalid`` without one)."""
    note = (note or "").strip()[:4000] or None
    if action == "reject" and not note:
        raise Invalid("a rejection needs a reason", {"note": "required"})
    return note
