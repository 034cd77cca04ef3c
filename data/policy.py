"""The policy applied where the data is read: records masked for a caller, reveals noted, and the
same masks as SQL expressions for the layer registry (``layers.base`` composes them).

The decisions themselves (who sees which rows and classes of field) are in ``domain.policy``;
this module only applies them, in Python for records and in SQL for layers, so the two agree.
"""
from __future__ import annotations

from psycopg2 import sql as psql

from domain import policy
from domain.policy import Caller

# The SQL form of each mask in ``domain.policy.mask_value`` ({c} is the column).
SQL_MASKS = {
    "name": "CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 1) || repeat('*', greatest(char_length({c}) - 1, 1)) END",
    "phone": "CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 3) || '****' || right({c}, 4) END",
    "label": "CASE WHEN {c} IS NULL THEN NULL ELSE split_part({c}, ':', 1) || ':*' END",
    "hide": "NULL",
}


def incident_out(actor, record: dict, note: bool = True) -> dict:
    """An incident record (API, Open311 row, detail panel) masked for ``actor``; reveals noted
    (``note=False``: a row read to know whether there is a next page, not shown)."""
    own = actor.worker_id is not None and record.get("reporter_id") == actor.worker_id
    out, revealed = policy.mask_record(actor, record, policy.INCIDENT_FIELDS, own=own)
    if isinstance(out.get("timeline"), list):
        events = []
        for e in out["timeline"]:
            masked, seen = policy.mask_record(actor, e, policy.EVENT_FIELDS, own=own)
            events.append(masked)
            revealed += [f"timeline.{k}" for k in seen]
        out["timeline"] = events
    if "id" in record and note:
        policy.note_reveal(f"incident:{record['id']}", revealed, actor=actor)
    return out


def request_out(actor, row: dict) -> dict:
    """An Open311 request row masked for ``actor`` (same classes as the incident); reveal noted."""
    own = actor.worker_id is not None and row.get("reporter_id") == actor.worker_id
    out, revealed = policy.mask_record(actor, row, policy.REQUEST_FIELDS, own=own)
    policy.note_reveal(f"incident:{row.get('id')}", revealed, actor=actor)
    return out


def incidents_out(actor, records: list[dict], shown: int | None = None) -> list[dict]:
    """A list of incident records masked for ``actor``; a reveal noted for each of the first
    ``shown`` records (all by default) that revealed something."""
    shown = len(records) if shown is None else shown
    return [incident_out(actor, r, note=i < shown) for i, r in enumerate(records)]


def worker_out(actor, entry: dict, fields=policy.WORKER_FIELDS) -> dict:
    """A grid worker shown as a responder or route end: the name masked unless the role sees staff names."""
    out, revealed = policy.mask_record(actor, entry, fields)
    policy.note_reveal(f"worker:{entry.get('ref') or entry.get('id')}", revealed, actor=actor)
    return out


def may_see_photos(actor, record: dict) -> bool:
    """Photos show residents and their homes: the ``personal`` class (or the reporter's own)."""
    own = actor.worker_id is not None and record.get("reporter_id") == actor.worker_id
    return policy.sees(actor, policy.PERSONAL) or (own and not Caller.of(actor).read_only)


def sql_column(col: psql.Composable, cls: str | None, how: str | None, caller) -> psql.Composable:
    """``col`` as ``caller`` may read it: itself, or masked the way ``how`` says."""
    if cls is None or policy.sees(caller, cls):
        return col
    return psql.SQL(SQL_MASKS[how or "hide"]).format(c=col)


def sql_suppressed(col: psql.Composable, source: psql.Composable, caller) -> psql.Composable:
    """``col`` with small counts suppressed: NULL where ``source`` (the people count it comes
    from; ``col`` itself for a count) is 1–4, so a derived value cannot give the count back."""
    if policy.sees(caller, policy.PEOPLE_COUNT):
        return col
    return psql.SQL("CASE WHEN {s} > 0 AND {s} < {k} THEN NULL ELSE {c} END").format(
        s=source, c=col, k=psql.Literal(policy.SMALL_COUNT))
