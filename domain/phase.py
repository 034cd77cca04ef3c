"""An incident's phase: the Python face of ``db/migrations/0010_phase.sql``.

The database is the definition (``incident_phase``, ``incident_is_open``, ``incident_is_overdue``
and the ``incident_state`` table); this module states the same thing for code that has no
connection at hand (filters, enums, forms), and ``tests/test_phase.py`` proves the two equal.

open      new … on_site: someone still has to act; counted open, escalated when overdue.
resolved  resolved, verified: the work is done, verification/closure pending; not open, not closed.
closed    closed, rejected: finished.
overdue   open at or after the deadline (``due_at <= at``).
Open311's ``status`` is "open" for the open phase and "closed" otherwise.
"""
from __future__ import annotations

from datetime import datetime

PHASES = ("open", "resolved", "closed")

#: every state in the state machine's order, with its phase
STATE_PHASE: dict[str, str] = {
    "new": "open",
    "accepted": "open",
    "dispatched": "open",
    "in_progress": "open",
    "on_site": "open",
    "resolved": "resolved",
    "verified": "resolved",
    "closed": "closed",
    "rejected": "closed",
}
STATES: tuple[str, ...] = tuple(STATE_PHASE)
OPEN_STATES: tuple[str, ...] = tuple(s for s, p in STATE_PHASE.items() if p == "open")
RESOLVED_STATES: tuple[str, ...] = tuple(s for s, p in STATE_PHASE.items() if p == "resolved")
CLOSED_STATES: tuple[str, ...] = tuple(s for s, p in STATE_PHASE.items() if p == "closed")
#: what a state filter accepts on every surface (API, exports, OGC, the analyst page)
FILTER_WORDS: tuple[str, ...] = ("open", *STATES)


def phase(state: str) -> str | None:
    """The phase of ``state`` (None for an unknown state), as ``incident_phase`` in SQL."""
    return STATE_PHASE.get(state)


def is_open(state: str) -> bool:
    """Whether someone still has to act on an incident in ``state``."""
    return STATE_PHASE.get(state) == "open"


def is_overdue(state: str, due_at: datetime, at: datetime) -> bool:
    """Open at or after its deadline, as ``incident_is_overdue`` in SQL."""
    return is_open(state) and due_at <= at


def open311_status(state: str) -> str:
    """GeoReport v2's status: "open" for the open phase, "closed" for resolved and closed."""
    return "open" if is_open(state) else "closed"


def expand_states(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """States for a state filter: the word "open" stands for the open phase's states; every other
    word is a state ("closed" and "resolved" are states too, so they keep meaning the state).
    Unknown words are kept, for the caller to refuse by name."""
    out: list[str] = []
    for v in values:
        out.extend(s for s in (OPEN_STATES if v == "open" else (v,)) if s not in out)
    return tuple(out)
