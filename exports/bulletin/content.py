"""A bulletin's content: every figure read from ``data.stats`` (the functions the dashboard
calls, so the bulletin and the dashboard cannot disagree) for the period, the period before it
and the same period a year earlier; plus the ranked child units, top categories, the overdue
list, the cells with their reports for the map and the daily trend."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from data import bulletins, stats
from exports.bulletin.period import Period

# The indicators in print order: key, how to write it ('n' a count, 'pct', 'h' hours).
INDICATORS = (
    ("reported", "n"), ("opened", "n"), ("dispatched", "n"), ("closed", "n"), ("solved", "n"),
    ("solved_pct", "pct"), ("on_time_pct", "pct"), ("reopen_pct", "pct"), ("solved_in_grid_pct", "pct"),
    ("mean_hours", "h"), ("escalations_3", "n"), ("escalations_2", "n"), ("escalations_1", "n"),
    ("merged", "n"), ("visit_pct", "pct"), ("satisfaction_pct", "pct"),
)
TOP_CATEGORIES = 10
OVERDUE_ROWS = 100


@dataclass(frozen=True)
class Bulletin:
    """Everything printed in one bulletin."""

    unit: dict
    period: Period
    tz: str
    generated_at: datetime
    figures: dict[str, dict]   # 'current', 'previous', 'last_year' → indicator → value
    periods: dict[str, Period]
    children: list[dict]
    categories: list[dict]
    overdue: list[dict]
    cells: list[dict]          # code, name, geometry, reported
    trend: list[dict]


def figures(dsn: str, region_code: str, unit: str, f: stats.Filters) -> dict:
    """The indicators of ``unit`` over ``f``'s days, from ``stats.kpis`` and ``stats.evaluation``."""
    k = stats.kpis(dsn, region_code, unit, f)
    ev = stats.evaluation(dsn, region_code, unit, f)
    out = {key: k.get(key, ev.get(key)) for key, _ in INDICATORS}
    for level in (3, 2, 1):
        out[f"escalations_{level}"] = ev["escalations"][level]
    return out


def filters(p: Period, tz: str, now: datetime) -> stats.Filters:
    """The dashboard's filters for the period's local days."""
    return stats.Filters(since=p.since, until=p.until, now=now, tz=tz)


def build(dsn: str, region_code: str, unit: str, period: Period, now: datetime | None = None) -> Bulletin:
    """The bulletin of ``unit`` (already checked against the caller's jurisdiction) for ``period``."""
    now = now or datetime.now(UTC)
    info = stats.unit_info(dsn, region_code, unit)
    if info is None:
        raise LookupError(f"no unit {unit} in region {region_code}")
    tz = stats.region_timezone(dsn, region_code)
    periods = {"current": period, "previous": period.previous(), "last_year": period.last_year()}
    figs = {name: figures(dsn, region_code, unit, filters(p, tz, now)) for name, p in periods.items()}
    f = filters(period, tz, now)
    kids = stats.children(dsn, region_code, unit, info["level"], f)
    kids.sort(key=lambda c: (-c["reported"], c["code"]))
    cats = [c for c in stats.categories(dsn, unit, f) if c["reported"]][:TOP_CATEGORIES]
    metrics = stats.cell_metrics(dsn, region_code, unit, f)
    cells = bulletins.cells(dsn, region_code, unit)
    for c in cells:
        c["reported"] = metrics.get(c["code"], {}).get("reported", 0)
    return Bulletin(unit=info, period=period, tz=tz, generated_at=now, figures=figs, periods=periods,
                    children=kids, categories=cats, overdue=bulletins.overdue(dsn, region_code, unit, now,
                                                                             OVERDUE_ROWS),
                    cells=cells, trend=every_day(stats.trend(dsn, unit, f, "day"), period))


def every_day(trend: list[dict], period: Period) -> list[dict]:
    """The daily trend with a zero row for each day of the period without reports or solutions."""
    by_day = {t["day"]: t for t in trend}
    days = (period.since + timedelta(days=i) for i in range(period.days))
    return [by_day.get(d) or {"day": d, "reported": 0, "solved": 0, "solved_in_grid": 0} for d in days]
