"""How a bulletin writes its figures and names in either language (shared by PDF and XLSX)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from exports.bulletin.content import INDICATORS, Bulletin
from i18n import gettext


def w(lang: str, key: str, **values) -> str:
    """A bulletin word (``bulletin.<key>``) in ``lang``."""
    return gettext(lang, f"bulletin.{key}", **values)


def name(lang: str, row: dict, key: str = "name") -> str:
    """A unit's, cell's or category's name in ``lang`` (Chinese when there is no English one)."""
    return (row.get(f"{key}_en") if lang == "en" else None) or row.get(key) or ""


def value(v, how: str) -> str:
    """A figure as printed: a count, a percentage with one decimal, hours; '—' when undefined."""
    if v is None:
        return "—"
    if how == "pct":
        return f"{v:.1f}%"
    if how == "h":
        return f"{v:.1f}"
    return str(int(v))


def change(now, before, how: str, lang: str) -> str:
    """The change from ``before`` to ``now``: relative for counts and hours, in points for rates."""
    if now is None or before is None:
        return "—"
    if how == "pct":
        return f"{now - before:+.1f} {w(lang, 'pp')}"
    if before == 0:
        return "—" if now == 0 else w(lang, "new")
    return f"{100.0 * (now - before) / before:+.1f}%"


def indicator_rows(b: Bulletin, lang: str) -> list[list[str]]:
    """Indicator, this period, previous, change, same period last year, change."""
    cur, prev, ly = (b.figures[k] for k in ("current", "previous", "last_year"))
    return [[w(lang, f"ind.{key}"), value(cur[key], how), value(prev[key], how),
             change(cur[key], prev[key], how, lang), value(ly[key], how), change(cur[key], ly[key], how, lang)]
            for key, how in INDICATORS]


def title(b: Bulletin, lang: str) -> str:
    """The bulletin's title."""
    return w(lang, f"title_{b.period.kind}", unit=name(lang, b.unit), period=b.period.text)


def span(b: Bulletin, lang: str) -> str:
    """The period's days, with the comparison periods."""
    last = b.period.until.toordinal() - 1
    return w(lang, "span", since=b.period.since.isoformat(), until=datetime.fromordinal(last).date().isoformat(),
             previous=b.periods["previous"].text, last_year=b.periods["last_year"].text, tz=b.tz)


def local(at: datetime, tz: str) -> str:
    """An instant as local date and time."""
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def level(lang: str, lv: int) -> str:
    """A handling level's word."""
    return w(lang, f"level.{lv}")


def overdue_rows(b: Bulletin, lang: str) -> list[list[str]]:
    """Overdue incidents: number, category, cell, level, due, hours past due."""
    out = []
    for i, r in enumerate(b.overdue, 1):
        hours = (b.generated_at - r["due_at"]).total_seconds() / 3600
        out.append([str(i), str(r["id"])[:8], name(lang, r, "category_name"), name(lang, r, "cell_name"),
                    level(lang, r["level"]), local(r["due_at"], b.tz), f"{hours:.0f}"])
    return out


def children_rows(b: Bulletin, lang: str) -> list[list[str]]:
    """Child units ranked by reports: rank, unit, population, reports, solved, in grid, open, overdue."""
    return [[str(i), name(lang, c), value(c["population"], "n"), str(c["reported"]), str(c["solved"]),
             str(c["solved_in_grid"]), str(c["open"]), str(c["overdue"])]
            for i, c in enumerate(b.children, 1)]


def category_rows(b: Bulletin, lang: str) -> list[list[str]]:
    """Top categories: rank, category, reports, solved, in grid, late, mean hours."""
    return [[str(i), name(lang, c), str(c["reported"]), str(c["solved"]), str(c["solved_in_grid"]), str(c["late"]),
             value(c["mean_hours"], "h")] for i, c in enumerate(b.categories, 1)]
