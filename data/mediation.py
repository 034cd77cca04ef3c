"""Mediation cases, the seed's "1433" process, on top of the incident's state machine:

    accept   (受理)      the dispute becomes a case          → incident_act 'accept' (if new)
    assign   (分派)      to a mediation station or a team    → 'dispatch'
    mediate  (调解)      the mediators are at work           → 'start'
    agree    (达成协议)  the agreement is recorded           → 'resolve'
    refer    (引导诉讼)  referred to court                   → 'resolve' (the grid's part is done)
    visit    (回访)      the parties are visited afterwards  → a return visit (data.evaluation)

Each step is one transaction: the state machine's action (its note says which step it was)
and the case row's stage move together, in this order only."""
from __future__ import annotations

from datetime import datetime, timezone

import psycopg2

from data import evaluation
from data.incidents import DESCRIPTION_MAX, Conflict, Forbidden, Invalid, NotFound, _label, _refusal, get
from db.core import sql
from domain import policy

KINDS = ("grassland", "marriage_family", "neighbour", "property", "labour", "other")
ROLES = {"admin", "dispatcher"}
# step → (stage it needs, stage it makes, state-machine action)
STEPS = {
    "assign": ("accepted", "assigned", "dispatch"),
    "mediate": ("assigned", "mediating", "start"),
    "agree": ("mediating", "agreed", "resolve"),
    "refer": ("mediating", "referred", "resolve"),
}
CASE_FIELDS = {"outcome_text": (policy.PERSONAL, "hide"), "created_by": (policy.STAFF_NAME, "label")}


def _check(conn, actor, incident_id) -> str:
    iid = evaluation._uuid(incident_id, "id")
    if actor.role not in ROLES or getattr(actor, "read_only", False):
        raise Forbidden(f"role {actor.role} does not handle mediation cases")
    evaluation._visible(conn, actor, iid)
    return iid


def _text(value, key: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > DESCRIPTION_MAX:
        raise Invalid(f"invalid {key}", {key: f"a text of 1 to {DESCRIPTION_MAX} characters"})
    return value.strip()


def _act(cur, iid: str, action: str, actor, note: str, now: datetime) -> None:
    cur.execute(sql("incident_act"), {"id": iid, "action": action, "actor": _label(actor), "note": note,
                                      "lon": None, "lat": None, "department": None, "now": now})


def case(conn, actor, incident_id) -> dict:
    """The mediation case of an incident the caller may see, with the incident."""
    iid = evaluation._uuid(incident_id, "id")
    _, _, reporter_id, _ = evaluation._visible(conn, actor, iid)
    keys = ("id", "incident_id", "kind", "stage", "station_id", "station_name", "station_name_en", "team",
            "outcome_text", "created_at", "updated_at", "created_by", "state")
    with conn.cursor() as cur:
        cur.execute(sql("mediation_case_get"), {"id": iid})
        row = cur.fetchone()
    conn.rollback()
    if row is None:
        raise NotFound(f"incident {iid} has no mediation case")
    out, seen = policy.mask_record(actor, dict(zip(keys, row, strict=True)), CASE_FIELDS)
    policy.note_reveal(f"incident:{iid}", [f"mediation.{k}" for k in seen], actor=actor)
    out["incident_id"] = str(out["incident_id"])
    out["incident"] = get(conn, actor, iid)
    out["return_visits"] = evaluation.visits(conn, actor, iid, reporter_id)
    return out


def accept(conn, actor, incident_id, kind: str, now: datetime | None = None) -> dict:
    """Accept a dispute as a mediation case (its incident accepted if it was new). Commits."""
    now = now or datetime.now(timezone.utc)
    if kind not in KINDS:
        raise Invalid("invalid kind", {"kind": f"one of {', '.join(KINDS)}"})
    iid = _check(conn, actor, incident_id)
    try:
        with conn.cursor() as cur:
            cur.execute(sql("mediation_case_insert"), {"id": iid, "kind": kind, "now": now, "actor": _label(actor)})
            if cur.fetchone() is None:
                conn.rollback()
                raise Conflict("the incident is not a dispute, or already has a mediation case", allowed=[])
            cur.execute("SELECT state FROM incident WHERE id = %(id)s FOR UPDATE", {"id": iid})
            note = f"mediation accepted ({kind})"
            if cur.fetchone()[0] == "new":
                _act(cur, iid, "accept", actor, note, now)
            else:
                cur.execute(sql("mediation_event"), {"id": iid, "now": now, "actor": _label(actor), "note": note})
    except psycopg2.Error as exc:
        conn.rollback()
        raise _refusal(exc) from exc
    conn.commit()
    return case(conn, actor, iid)


def step(conn, actor, incident_id, name: str, *, station_id: int | None = None, team: str | None = None,
         text: str | None = None, now: datetime | None = None) -> dict:
    """Take the next step of a case: assign (station_id or team), mediate, agree (text), refer (text). Commits."""
    now = now or datetime.now(timezone.utc)
    if name not in STEPS:
        raise Invalid(f"unknown step {name!r}", {"step": f"one of {', '.join(STEPS)}, or visit"})
    need, make, action = STEPS[name]
    iid = _check(conn, actor, incident_id)
    team = _text(team, "team")
    text = _text(text, "text", required=name in ("agree", "refer"))
    if name == "assign" and (station_id is None) == (team is None):
        raise Invalid("assign to a mediation station or a team", {"station_id": "a station id, or give team"})
    if station_id is not None and (not isinstance(station_id, int) or isinstance(station_id, bool)
                                   or not 0 < station_id < 2**63):
        raise Invalid("invalid station_id", {"station_id": "a facility id (integer)"})
    note = f"mediation {make}"
    try:
        with conn.cursor() as cur:
            if station_id is not None:
                cur.execute(sql("mediation_station"), {"id": station_id, "region_code": actor.region_code})
                found = cur.fetchone()
                if found is None:
                    conn.rollback()
                    raise Invalid("no such mediation station", {"station_id": "a facility of kind mediation_station"})
                note += f": {found[1]}"
            elif team:
                note += f": {team}"
            if text:
                note += f" — {text}"
            cur.execute(sql("mediation_case_update"), {"id": iid, "stage": make, "from_stage": need, "now": now,
                                                       "station_id": station_id, "team": team,
                                                       "outcome_text": text})
            if cur.fetchone() is None:
                conn.rollback()
                raise Conflict(f"step {name} follows stage {need}", allowed=[])
            _act(cur, iid, action, actor, note, now)
    except psycopg2.Error as exc:
        conn.rollback()
        raise _refusal(exc) from exc
    conn.commit()
    return case(conn, actor, iid)


def visit(conn, actor, incident_id, outcome: str, note: str | None = None, now: datetime | None = None) -> dict:
    """The return visit after an agreement or referral (a return_visit row); the case is then visited."""
    now = now or datetime.now(timezone.utc)
    iid = _check(conn, actor, incident_id)
    with conn.cursor() as cur:
        cur.execute(sql("mediation_case_get"), {"id": iid})
        row = cur.fetchone()
    conn.rollback()
    if row is None or row[3] not in ("agreed", "referred"):
        raise Conflict("a return visit follows an agreement or a referral", allowed=[])
    evaluation.return_visit(conn, actor, iid, outcome, note, now=now)
    with conn.cursor() as cur:
        cur.execute(sql("mediation_case_update"), {"id": iid, "stage": "visited", "from_stage": row[3], "now": now,
                                                   "station_id": None, "team": None, "outcome_text": None})
    conn.commit()
    return case(conn, actor, iid)
