"""Incident aggregates for the dashboard's KPIs, read from roll-ups so they stay fast at 10M
incidents: choropleth values, KPIs and chart series, all limited to a unit inside the caller's
jurisdiction. (The map's incidents — clusters and points — are the incidents layer of
``layers.registry``, like every map layer.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from db.core import pooled, sql
from domain import clock


class OutsideJurisdiction(PermissionError):
    """The requested unit lies outside the caller's jurisdiction."""


@dataclass(frozen=True)
class Filters:
    """What the leader chose: a local-date range [since, until), categories and a handling level.
    Days are calendar days in ``tz``, the region's time zone (``region_timezone``)."""

    since: date
    until: date
    categories: tuple[str, ...] | None = None
    level: int | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    tz: str = field(kw_only=True)

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None, *, tz: str, **kw) -> Filters:
        """The last ``days`` local days (in ``tz``) up to and including today."""
        now = now or datetime.now(UTC)
        today = clock.local_date(now, tz)
        return cls(since=today - timedelta(days=days - 1), until=today + timedelta(days=1), now=now, tz=tz, **kw)

    def params(self) -> dict:
        """SQL parameters shared by every aggregate query."""
        today = clock.local_date(self.now, self.tz)
        return {"since": self.since, "until": self.until,
                "since_ts": clock.day_start(self.since, self.tz),
                "until_ts": clock.day_start(self.until, self.tz),
                "today": clock.day_start(today, self.tz),
                "categories": list(self.categories) if self.categories else None,
                "level": self.level, "now": self.now}


def region_timezone_of(conn, region_code: str) -> str | None:
    """The region's time zone from its row on ``conn`` (None when the region is not loaded)."""
    with conn.cursor() as cur:
        cur.execute(sql("region_timezone"), {"region_code": region_code})
        row = cur.fetchone()
    return row[0] if row else None


def region_timezone(dsn: str, region_code: str) -> str:
    """The region's time zone from its row (what every local time and day is shown in)."""
    with pooled(dsn) as conn:
        tz = region_timezone_of(conn, region_code)
    if tz is None:
        raise LookupError(f"no region {region_code}: load it first (onemap demo load, or grids import)")
    return tz


def scope_for(actor_unit: str, unit: str | None) -> str:
    """The unit to show: ``unit`` if it lies inside the caller's jurisdiction, else refused."""
    if not unit:
        return actor_unit
    if not unit.startswith(actor_unit):
        raise OutsideJurisdiction(f"unit {unit} is outside the jurisdiction {actor_unit}")
    return unit


def _rows(dsn: str, name: str, params: dict) -> list[tuple]:
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql(name), params)
        return cur.fetchall()


def kpis(dsn: str, region_code: str, scope: str, f: Filters) -> dict:
    """Open, overdue, new and solved today; share solved (in the grid); on-time rate; mean hours;
    return-visit rate (the range's solved reports visited) and satisfaction (``visits``)."""
    (row,) = _rows(dsn, "agg_kpis", {"region_code": region_code, "scope": scope, **f.params()})
    open_, overdue, new_today, solved_today, reported, s4, s3, s2, s1, late, handling_s = row
    solved = s4 + s3 + s2 + s1
    v = visits(dsn, region_code, scope, f)
    return {"open": open_, "overdue": overdue, "new_today": new_today, "solved_today": solved_today,
            "reported": int(reported), "solved": int(solved), "solved_pct": _pct(solved, reported),
            "solved_in_grid_pct": _pct(s4, solved), "on_time_pct": _pct(solved - late, solved),
            "mean_hours": None if not solved else round(handling_s / solved / 3600, 1),
            "solved_by_level": {4: int(s4), 3: int(s3), 2: int(s2), 1: int(s1)},
            "satisfaction_pct": v["satisfaction_pct"], "visit_pct": _pct(min(v["visited"], solved), solved)}


def _pct(part, whole) -> float | None:
    return None if not whole else round(100.0 * float(part) / float(whole), 1)


def trend(dsn: str, scope: str, f: Filters, bucket: str = "day") -> list[dict]:
    """Reported, solved and solved-in-grid per day or week."""
    if bucket not in ("day", "week"):
        raise ValueError("bucket is day or week")
    rows = _rows(dsn, "agg_trend", {"scope": scope, "bucket": bucket, **f.params()})
    return [{"day": d, "reported": int(r), "solved": int(s), "solved_in_grid": int(g)} for d, r, s, g in rows]


def categories(dsn: str, scope: str, f: Filters) -> list[dict]:
    """Reports per category, with what the departments behind them made of them."""
    rows = _rows(dsn, "agg_categories", {"scope": scope, **f.params()})
    return [{"code": c, "name": n, "name_en": ne, "department_kind": k, "reported": int(r),
             "solved_in_grid": int(g), "late": int(lt), "solved": int(s),
             "mean_hours": None if not s else round(h / s / 3600, 1)}
            for c, n, ne, k, r, g, lt, s, h in rows]


def funnel(dsn: str, region_code: str, scope: str, f: Filters, k: dict | None = None) -> dict[int, int]:
    """How many reports reached each level: grid 4 → village 3 → town 2 → banner 1."""
    k = k or kpis(dsn, region_code, scope, f)
    open_levels = dict(_rows(dsn, "agg_open_levels", {"region_code": region_code, "scope": scope, **f.params()}))
    solved = k["solved_by_level"]
    reached = {}
    for level in (4, 3, 2, 1):
        reached[level] = sum(solved[lv] for lv in solved if lv <= level) + \
            sum(n for lv, n in open_levels.items() if lv <= level)
    return reached


def children(dsn: str, region_code: str, unit: str, level: int, f: Filters) -> list[dict]:
    """Per child unit: people, households, reports, solved in grid, open and overdue."""
    if level >= 4:
        return []
    child_len = 6 + 3 * level
    rows = _rows(dsn, "agg_children", {"region_code": region_code, "unit": unit, "child_len": child_len,
                                       **f.params()})
    keys = ("code", "name", "name_en", "population", "households", "reported", "solved_in_grid",
            "solved", "open", "overdue")
    return [dict(zip(keys, (r[0], r[1], r[2], *map(int, r[3:])), strict=True)) for r in rows]


def cell_metrics(dsn: str, region_code: str, scope: str, f: Filters) -> dict[str, dict]:
    """Per cell: reports per 1,000 residents, overdue now, and share solved in the grid (%)."""
    out = {}
    for code, population, n, s4, solved, overdue in _rows(
            dsn, "agg_cell_metrics", {"region_code": region_code, "scope": scope, **f.params()}):
        out[code] = {"per_1000": round(1000.0 * n / population, 1) if population else 0.0,
                     "overdue": int(overdue), "in_grid": _pct(s4, solved) or 0.0, "reported": int(n),
                     "population": population}  # for the caller's suppression (domain.policy)
    return out


def unit_info(dsn: str, region_code: str, unit: str) -> dict | None:
    """Name, level and Leaflet bounds of a unit."""
    rows = _rows(dsn, "agg_unit_info", {"region_code": region_code, "unit": unit})
    if not rows:
        return None
    code, name, name_en, level, xmin, ymin, xmax, ymax = rows[0]
    return {"code": code, "name": name, "name_en": name_en, "level": level,
            "bounds": [[ymin, xmin], [ymax, xmax]]}


def recent_events(dsn: str, region_code: str, scope: str, now: datetime | None = None, limit: int = 12) -> list[dict]:
    """The latest timeline events under ``scope``, newest first."""
    rows = _rows(dsn, "agg_recent_events", {"region_code": region_code, "scope": scope, "limit": limit,
                                            "now": now or datetime.now(UTC)})
    keys = ("at", "action", "state", "level", "incident_id", "category", "category_name",
            "category_name_en", "cell_code", "cell_name", "overdue")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def patrolled_cells(dsn: str, region_code: str, scope: str, since: datetime, now: datetime | None = None) -> set[str]:
    """Codes of the cells under ``scope`` that a worker's fix fell in since ``since``."""
    rows = _rows(dsn, "agg_patrolled_cells", {"region_code": region_code, "scope": scope, "since": since,
                                               "now": now or datetime.now(UTC)})
    return {r[0] for r in rows if r[0] and r[0].startswith(scope)}


def cell_at(dsn: str, region_code: str, lon: float, lat: float) -> str | None:
    """The code of the level-4 cell holding a point, or None outside the grid."""
    return _rows(dsn, "agg_cell_at", {"region_code": region_code, "lon": lon, "lat": lat})[0][0]



def visits(dsn: str, region_code: str, scope: str, f: Filters) -> dict:
    """Return visits of the range's reports: per outcome, incidents visited, and satisfaction =
    (satisfied + basically satisfied) / visits that reached the resident."""
    (row,) = _rows(dsn, "agg_visits", {"region_code": region_code, "scope": scope, **f.params()})
    n, satisfied, basic, unsatisfied, unreachable, visited = map(int, row)
    return {"visits": n, "satisfied": satisfied, "basic": basic, "unsatisfied": unsatisfied,
            "unreachable": unreachable, "visited": visited,
            "satisfaction_pct": _pct(satisfied + basic, n - unreachable)}


def evaluation(dsn: str, region_code: str, scope: str, f: Filters) -> dict:
    """The loop's steps over the range, by when they happened: accepted, dispatched, resolved,
    closed, reopened (rework rate), merged, escalations per level; with ``visits``."""
    (row,) = _rows(dsn, "agg_evaluation", {"region_code": region_code, "scope": scope, **f.params()})
    opened, dispatched, resolutions, closed, reopens, merged, e3, e2, e1 = map(int, row)
    return {"opened": opened, "dispatched": dispatched, "resolutions": resolutions, "closed": closed,
            "reopened": reopens, "reopen_pct": _pct(reopens, resolutions), "merged": merged,
            "escalations": {3: e3, 2: e2, 1: e1}, **visits(dsn, region_code, scope, f)}
