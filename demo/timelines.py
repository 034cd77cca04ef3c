"""When synthetic incidents happen and how each runs the four-level closed loop (pure numpy).

Times are int64 seconds since the Unix epoch (UTC). The seed's loop: the grid worker solves the
case the same day; unresolved at a deadline it escalates to the village (3 days), then the town
(+5 days), then the banner (+7 days), each counted from the deadline of the level below.
A timeline is planned in full and then cut at ``now``: what has not happened yet is dropped, so
recent incidents come out in open states and old ones closed, with no separate rule for either.

Steps follow the state machine of 0003_workflow.sql: the grid worker accepts and starts on the spot
(``start`` carries the worker's position); a department is dispatched, starts, arrives (position)
and resolves; the back office verifies and closes. A case still unresolved at a deadline is always
escalated (the escalation sweep spares no open state), so "late" here means *closed* after the
deadline (按期结案率 counts closure): resolved in time but verified or closed late, or at the banner,
which has no level above it, resolved late.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np

from demo.county import REGION_TIMEZONE

DAY = 86_400
HOUR = 3_600
_Seconds = TypeVar("_Seconds", int, np.ndarray)  # epoch seconds: one, or an array of them

def _fixed_offset(tz: str) -> int:
    """Seconds east of UTC of a zone without daylight saving now (the demo's history is recent)."""
    zone = ZoneInfo(tz)
    offsets = {zone.utcoffset(datetime(2020, m, 1)) for m in (1, 7)}
    if len(offsets) != 1:
        raise ValueError(f"the demo generator needs a zone without daylight saving; {tz} has it")
    (offset,) = offsets
    if offset is None:  # a ZoneInfo always knows its offset; None would be a naive zone
        raise ValueError(f"time zone {tz} gives no UTC offset")
    return int(offset.total_seconds())


# The demo county's zone (region row) has had no daylight saving since 1991: a fixed offset is
# exact and vectorizes.
LOCAL_OFFSET = _fixed_offset(REGION_TIMEZONE)
EXTRA_DAYS = {3: 3, 2: 5, 1: 7}

SOLVED_LEVEL_SHARES = np.array([0.0, 0.04, 0.08, 0.18, 0.70])  # index = level; seed: ~70% in the grid
REJECT_SHARE = 0.02        # invalid reports (duplicates, out of scope) closed without handling
LATE_SHARE = 0.08          # closed after the deadline: on-time closure ~92%
GRID_DISPATCH_SHARE = 0.15  # grid-level cases the worker hands to a department the same day

STATES = ("new", "accepted", "dispatched", "in_progress", "on_site", "resolved", "verified",
          "closed", "rejected")
# One column per possible step, in time order. Escalation keeps the state and changes the level.
SLOTS = ("report", "accept", "reject", "escalate", "escalate", "escalate", "dispatch", "start",
         "arrive", "resolve", "verify", "close")
(REPORT, ACCEPT, REJECT, ESC3, ESC2, ESC1, DISPATCH, START, ARRIVE, RESOLVE, VERIFY,
 CLOSE) = range(len(SLOTS))
TO_STATE = np.array([STATES.index(s) for s in (
    "new", "accepted", "rejected", "accepted", "accepted", "accepted", "dispatched",
    "in_progress", "on_site", "resolved", "verified", "closed")], dtype=np.int8)

# Relative monthly weights (Jan..Dec) for categories with a season; the rest are flat.
SEASONS = {
    # spring grazing bans and the move to summer pasture bring boundary and fencing quarrels
    "grassland_dispute": [0.4, 0.5, 0.9, 1.8, 2.2, 2.0, 1.3, 1.0, 0.8, 0.7, 0.5, 0.4],
    # coal stoves and heating in the long winter
    "fire_hazard": [2.0, 1.8, 1.4, 1.0, 0.6, 0.5, 0.5, 0.5, 0.6, 1.0, 1.6, 2.0],
    "road_safety": [1.8, 1.6, 1.2, 0.9, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0, 1.4, 1.8],
    # term time only: winter break late Jan-Feb, summer break Jul-Aug
    "school_safety": [0.7, 0.2, 1.3, 1.3, 1.3, 1.2, 0.3, 0.3, 1.4, 1.3, 1.3, 1.2],
    "environment": [0.4, 0.4, 0.7, 1.0, 1.3, 1.7, 1.9, 1.7, 1.2, 0.8, 0.5, 0.4],
    "health_epidemic": [1.4, 1.4, 1.1, 1.0, 0.9, 0.8, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4],
    # wage arrears surface before the Spring Festival
    "labour_dispute": [1.8, 1.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 0.9, 1.1, 1.6],
    "work_safety": [0.6, 0.5, 0.9, 1.2, 1.3, 1.2, 1.2, 1.2, 1.2, 1.1, 0.9, 0.6],
}
# Local hour of day (0..23): reports follow the working day of the grid workers.
HOURLY = np.array([0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.9, 1.5, 1.9, 2.0, 1.8,
                   1.2, 1.2, 1.7, 1.9, 1.8, 1.5, 1.1, 0.9, 0.7, 0.5, 0.35, 0.2])
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.7])  # Monday first


def local_day(t: _Seconds) -> _Seconds:
    """Local (the demo region's zone) day number of epoch seconds ``t``."""
    return (t + LOCAL_OFFSET) // DAY


def day_weights(category_codes: list[str], first_day: int, last_day: int) -> np.ndarray:
    """[category, day] weights over local days first_day..last_day (season x weekday)."""
    days = np.arange(first_day, last_day + 1)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    flat = [1.0] * 12
    season = np.array([SEASONS.get(code, flat) for code in category_codes], dtype=float)
    return season[:, month] * WEEKDAY[weekday]


def sample_received(rng: np.random.Generator, category: np.ndarray, category_codes: list[str],
                    now: int) -> np.ndarray:
    """Received times over the 365 days before ``now``, seasonal per category, by daytime hour."""
    start = now - 365 * DAY
    first_day, last_day = int(local_day(start)), int(local_day(now))
    cdf = np.cumsum(day_weights(category_codes, first_day, last_day), axis=1)
    cdf /= cdf[:, -1:]
    hour_cdf = np.cumsum(HOURLY) / HOURLY.sum()
    out = np.empty(len(category), dtype=np.int64)
    todo = np.arange(len(category))
    # The first and last days are partial: draws outside [start, now) are redrawn, which keeps
    # every day's share right without special-casing them.
    while len(todo):
        day = np.empty(len(todo), dtype=np.int64)
        for c in np.unique(category[todo]):
            pick = category[todo] == c
            day[pick] = np.searchsorted(cdf[c], rng.random(pick.sum()), side="right")
        hour = np.searchsorted(hour_cdf, rng.random(len(todo)), side="right")
        t = ((first_day + day) * DAY - LOCAL_OFFSET + hour * HOUR
             + rng.integers(0, HOUR, len(todo)))
        out[todo] = t
        todo = todo[(t < start) | (t >= now)]
    return out


@dataclass
class Timelines:
    """Planned steps of n incidents: ``at[i, slot]`` valid where ``planned[i, slot]``."""

    at: np.ndarray            # int64 [n, slots]
    planned: np.ndarray       # bool [n, slots]
    level: np.ndarray         # int8 [n, slots], the handling level at that step
    due: np.ndarray           # int64 [n, 5], deadline per level (column 0 unused)
    solved_level: np.ndarray  # int8 [n], the level that resolves it (0 for rejected)
    dispatched: np.ndarray    # bool [n], handled by a department rather than the worker


def plan(rng: np.random.Generator, received: np.ndarray) -> Timelines:
    """Plan the full closed loop of each incident received at ``received`` (epoch seconds)."""
    n = len(received)
    r = received.astype(np.float64)
    due = np.zeros((n, 5), dtype=np.int64)
    due[:, 4] = (local_day(received) + 1) * DAY - LOCAL_OFFSET  # end of the received local day
    for lvl in (3, 2, 1):
        due[:, lvl] = due[:, lvl + 1] + EXTRA_DAYS[lvl] * DAY
    u = rng.random((n, 10))
    rejected = u[:, 0] < REJECT_SHARE
    solved = np.searchsorted(np.cumsum(SOLVED_LEVEL_SHARES), u[:, 1], side="right").astype(np.int8)
    solved = np.where(rejected, 0, np.clip(solved, 1, 4)).astype(np.int8)
    dispatched = ~rejected & ((solved < 4) | (u[:, 2] < GRID_DISPATCH_SHARE))
    late = ~rejected & (u[:, 3] < LATE_SHARE)

    at = np.zeros((n, len(SLOTS)))
    at[:, REPORT] = r
    d4 = due[:, 4].astype(np.float64)
    # accept (and reject) fall early in the day's window so a late-evening report still fits it
    at[:, ACCEPT] = r + u[:, 4] * np.minimum(30 * 60, (d4 - r) / 4)
    at[:, REJECT] = r + u[:, 4] * np.minimum(4 * HOUR, (d4 - r) * 0.9)
    at[:, ESC3], at[:, ESC2], at[:, ESC1] = due[:, 4], due[:, 3], due[:, 2]
    lvl_idx = np.maximum(solved, 1)
    deadline = due[np.arange(n), lvl_idx].astype(np.float64)
    # work at the solving level starts at acceptance (grid) or at the last escalation
    t0 = np.where(solved == 4, at[:, ACCEPT], due[np.arange(n), np.minimum(lvl_idx + 1, 4)])
    at[:, DISPATCH] = t0 + u[:, 5] * np.minimum(6 * HOUR, 0.1 * (deadline - t0))
    worker_start = t0 + u[:, 6] * 0.5 * (deadline - t0)
    at[:, START] = np.where(dispatched, at[:, DISPATCH] + u[:, 6] * 0.2 * (deadline - at[:, DISPATCH]),
                            worker_start)
    at[:, ARRIVE] = at[:, START] + u[:, 7] * 0.3 * (deadline - at[:, START])
    on_spot = np.where(dispatched, at[:, ARRIVE], at[:, START])
    at[:, RESOLVE] = on_spot + u[:, 8] ** 2 * (deadline - on_spot)
    # on time: verify and close inside what is left of the window
    at[:, VERIFY] = at[:, RESOLVE] + u[:, 9] * 0.5 * (deadline - at[:, RESOLVE])
    at[:, CLOSE] = at[:, VERIFY] + rng.random(n) * 0.5 * (deadline - at[:, VERIFY])
    # late: the back office verifies after the deadline, or the banner itself resolves late;
    # a mediation can drag on for days, and these cases are the "overdue" backlog at ``now``
    lateness = np.clip(rng.exponential(np.where(solved == 4, 1.5 * DAY, 3.0 * DAY)), 60, 20 * DAY)
    banner = late & (solved == 1)
    at[:, RESOLVE] = np.where(banner, deadline + lateness, at[:, RESOLVE])
    at[:, VERIFY] = np.where(late, np.maximum(at[:, RESOLVE], deadline) + np.where(banner, 0.3, 1.0) * lateness,
                             at[:, VERIFY])
    at[:, CLOSE] = np.where(late, at[:, VERIFY] + rng.random(n) * 4 * HOUR, at[:, CLOSE])

    planned = np.zeros((n, len(SLOTS)), dtype=bool)
    planned[:, REPORT] = True
    planned[:, REJECT] = rejected
    live = ~rejected
    planned[:, ACCEPT] = live
    planned[:, ESC3], planned[:, ESC2], planned[:, ESC1] = (live & (solved <= 3), live & (solved <= 2),
                                                           live & (solved == 1))
    planned[:, DISPATCH] = dispatched
    planned[:, START] = live
    planned[:, ARRIVE] = dispatched
    planned[:, RESOLVE:] = live[:, None]

    level = np.repeat(np.array([[4, 4, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0]], dtype=np.int8), n, axis=0)
    level[:, DISPATCH:] = np.maximum(solved, 4 * rejected)[:, None]
    # floor is monotone, so nondecreasing float times stay nondecreasing as whole seconds
    return Timelines(np.floor(at).astype(np.int64), planned, level, due, solved, dispatched)


@dataclass
class Snapshot:
    """Each incident as it stands at ``now``: the steps that happened and the derived row fields."""

    happened: np.ndarray       # bool [n, slots]
    state: np.ndarray          # int8 index into STATES
    handling_level: np.ndarray
    due_at: np.ndarray
    resolved: np.ndarray       # bool; resolved_at = at[:, RESOLVE], solved_level = Timelines.solved_level
    closed_at: np.ndarray      # int64, -1 when not closed (rejected cases close at rejection)
    with_department: np.ndarray


def snapshot(tl: Timelines, now: int) -> Snapshot:
    """Cut the planned timelines at ``now`` and derive state, level, deadline and closure."""
    n = len(tl.at)
    happened = tl.planned & (tl.at <= now)
    last = len(SLOTS) - 1 - np.argmax(happened[:, ::-1], axis=1)
    rows = np.arange(n)
    level = tl.level[rows, last]
    closed_at = np.where(happened[:, CLOSE], tl.at[:, CLOSE],
                         np.where(happened[:, REJECT], tl.at[:, REJECT], -1))
    return Snapshot(
        happened=happened,
        state=TO_STATE[last],
        handling_level=level,
        due_at=tl.due[rows, level],
        resolved=happened[:, RESOLVE],
        closed_at=closed_at,
        with_department=happened[:, DISPATCH] | (level < 4),
    )
