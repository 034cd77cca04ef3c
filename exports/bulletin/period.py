"""Bulletin periods: an ISO week ``2026-W47`` (Monday to Sunday) or a month ``2026-11``, as local
calendar days [since, until), with the period before it and the same period a year earlier."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """One bulletin period: its text, kind ('week' or 'month') and local days [since, until)."""

    text: str
    kind: str
    since: date
    until: date

    def previous(self) -> Period:
        """The period just before this one."""
        return parse(_shift(self, -1))

    def last_year(self) -> Period:
        """The same period a year earlier (week 53 becomes week 52 in a year without one)."""
        if self.kind == "month":
            return parse(f"{self.since.year - 1:04d}-{self.since.month:02d}")
        year, week, _ = (self.since + timedelta(days=3)).isocalendar()
        weeks = date(year - 1, 12, 28).isocalendar()[1]
        return parse(f"{year - 1:04d}-W{min(week, weeks):02d}")

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.until - self.since).days


def parse(text: str) -> Period:
    """The period ``text`` names; ``ValueError`` with the accepted forms otherwise."""
    text = (text or "").strip().upper()
    if m := _WEEK.match(text):
        year, week = int(m[1]), int(m[2])
        if not 2000 <= year <= 2200 or not 1 <= week <= date(year, 12, 28).isocalendar()[1]:
            raise ValueError(f"no week {text}")
        since = date.fromisocalendar(year, week, 1)
        return Period(f"{year:04d}-W{week:02d}", "week", since, since + timedelta(days=7))
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 2000 <= year <= 2200 or not 1 <= month <= 12:
            raise ValueError(f"no month {text}")
        since = date(year, month, 1)
        until = date(year + (month == 12), month % 12 + 1, 1)
        return Period(f"{year:04d}-{month:02d}", "month", since, until)
    raise ValueError("a period is an ISO week like 2026-W47 or a month like 2026-11")


def _shift(p: Period, step: int) -> str:
    if p.kind == "week":
        year, week, _ = (p.since + timedelta(weeks=step)).isocalendar()
        return f"{year:04d}-W{week:02d}"
    months = p.since.year * 12 + p.since.month - 1 + step
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def last_finished(kind: str, today: date) -> Period:
    """The latest week or month that ended before ``today`` (what a scheduled run writes)."""
    if kind == "week":
        year, week, _ = (today - timedelta(days=7)).isocalendar()
        return parse(f"{year:04d}-W{week:02d}")
    return parse(_shift(parse(f"{today.year:04d}-{today.month:02d}"), -1))
