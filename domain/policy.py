"""Who sees which rows and which fields: the one decision every surface asks (no I/O).

Rows (jurisdiction). Grid codes are hierarchical prefixes (adcode 6 + town 3 + village 3 +
sequence 3), so a caller whose unit is ``U`` sees what lies at a code that starts with ``U``.
Department staff see their department's cases only. A grid worker's unit is their cell. A
reporter reads what they reported even when the point fell just outside their cell (the database
decides the cell from the point, not from the reporter).

Fields. Every field that is about people belongs to a *class*; a role sees a class unmasked or
gets it masked (``MASKS``). The decision, written once here:

=============  =====  ==========  ======  =======  ==========  ======  ========
class          admin  dispatcher  leader  analyst  department  worker  read-only
=============  =====  ==========  ======  =======  ==========  ======  ========
personal       yes    yes         –       –        yes         yes     –
staff_name     yes    yes         yes     –        yes         yes     –
staff_phone    yes    yes         –       –        –           yes     –
position       yes    yes         yes     yes      yes         yes     –
people_count   yes    –           –       –        –           yes     –
id_number      yes    yes         –       –        –           yes     –
res_phone      yes    yes         –       –        –           yes     –
special_group  yes    yes         –       –        –           yes     –
people_export  yes    yes         –       –        –           –       –
registry_edit  yes    yes         –       –        –           yes     –
=============  =====  ==========  ======  =======  ==========  ======  ========

* ``personal``: an incident's free-text description and who reported it (they name residents and
  their disputes). The roles that handle a case read it (dispatcher, the department it went to,
  the grid worker of the cell); command and analysis work from counts (PIPL's minimum-necessary
  principle), so leaders and analysts get it masked.
* ``staff_name``: grid workers' names. Dispatchers and leaders send and call people by name, so
  they see names (audited); analysts do not need them.
* ``staff_phone``: a worker's phone: the dispatcher who calls, the worker's colleagues.
* ``position``: a worker's live GPS position (a row class: a caller without it gets no rows).
* ``people_count``: counts of residents or households (and anything computed from them, such as
  density) below ``SMALL_COUNT`` are suppressed: a count of 1–4 can point at a household.
* The registries (人口/房屋, "9+X", GB/T 31000; PIPL art. 28/51): residents' names, birth dates and
  addresses are ``personal`` (a list of people needs that class); ``id_number`` and ``res_phone``
  are stored masked with the clear value readable only through the reveal path, which needs a
  stated reason (``reveal_reason``) and writes its own audit row; ``special_group`` membership
  (released prisoners, community corrections, …) is for the roles that handle it (the cell's worker,
  dispatchers, admins), never for command, analysis or other departments; ``people_export`` is a
  bulk export of people (audited with its row count); ``registry_edit`` adds and updates houses,
  households and people within the jurisdiction.
* A read-only session (a wall kiosk) sees no class at all: a wall is looked at by anyone in the room.

Every read that returns a class unmasked is a *reveal*, and each request that revealed something
writes one audit row naming what (``note_reveal`` here, written by the web layer).
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

ROLES = ("admin", "dispatcher", "leader", "analyst", "department", "worker")
PERSONAL, STAFF_NAME, STAFF_PHONE, POSITION, PEOPLE_COUNT = (
    "personal", "staff_name", "staff_phone", "position", "people_count")
ID_NUMBER, RES_PHONE, SPECIAL_GROUP, PEOPLE_EXPORT, REGISTRY_EDIT = (
    "id_number", "res_phone", "special_group", "people_export", "registry_edit")
CLASSES = (PERSONAL, STAFF_NAME, STAFF_PHONE, POSITION, PEOPLE_COUNT,
           ID_NUMBER, RES_PHONE, SPECIAL_GROUP, PEOPLE_EXPORT, REGISTRY_EDIT)
SEES: dict[str, frozenset[str]] = {
    PERSONAL: frozenset({"admin", "dispatcher", "department", "worker"}),
    STAFF_NAME: frozenset({"admin", "dispatcher", "leader", "department", "worker"}),
    STAFF_PHONE: frozenset({"admin", "dispatcher", "worker"}),
    POSITION: frozenset({"admin", "dispatcher", "leader", "analyst", "department", "worker"}),
    PEOPLE_COUNT: frozenset({"admin", "worker"}),
    ID_NUMBER: frozenset({"admin", "dispatcher", "worker"}),
    RES_PHONE: frozenset({"admin", "dispatcher", "worker"}),
    SPECIAL_GROUP: frozenset({"admin", "dispatcher", "worker"}),
    PEOPLE_EXPORT: frozenset({"admin", "dispatcher"}),
    REGISTRY_EDIT: frozenset({"admin", "dispatcher", "worker"}),
}
MASKS = ("name", "phone", "label", "hide")  # how a masked value reads: 张*, 138****5678, worker:*, null
SMALL_COUNT = 5  # people counts below this (1–4) are suppressed for roles without PEOPLE_COUNT
# The fields of an incident record (API, Open311, detail panel) that belong to a class, and how
# each is masked; every other field of an incident is visible to whoever sees the row.
INCIDENT_FIELDS: dict[str, tuple[str, str]] = {
    "description": (PERSONAL, "hide"),
    "reporter_id": (PERSONAL, "hide"),
    "reporter": (PERSONAL, "hide"),
}
# The fields of a responder (a routing candidate or a route end) that are about a grid worker.
WORKER_FIELDS: dict[str, tuple[str, str]] = {"name": (STAFF_NAME, "name"), "label": (STAFF_NAME, "name")}
# The fields of an Open311 request row: its description, the last note on its timeline and the
# photo link a client posted are personal like the incident's own.
REQUEST_FIELDS: dict[str, tuple[str, str]] = {
    "description": (PERSONAL, "hide"), "last_note": (PERSONAL, "hide"), "media_url": (PERSONAL, "hide")}
# The fields of a timeline event: a note is free text (a report's note is its description), the
# actor a staff account (``role:username``).
EVENT_FIELDS: dict[str, tuple[str, str]] = {"note": (PERSONAL, "hide"), "actor": (STAFF_NAME, "label")}
# The fields of a registry person (a list needs PERSONAL to begin with): ID number and phone are
# only ever stored masked outside the reveal path; special-group membership is its own class.
PERSON_FIELDS: dict[str, tuple[str, str]] = {
    "name": (PERSONAL, "name"), "registered_address": (PERSONAL, "hide"),
    "special_groups": (SPECIAL_GROUP, "hide")}
REASON_MIN, REASON_MAX = 4, 200  # a reveal's stated reason, in characters


class ActorLike(Protocol):
    """Anything the policy can ask about: ``data.users.Actor``, a ``Caller``, a session's actor."""

    @property
    def unit_code(self) -> str: ...

    @property
    def region_code(self) -> str: ...


class OutsideJurisdiction(PermissionError):
    """The requested unit lies outside the caller's jurisdiction (a 403)."""

    status = 403


@dataclass(frozen=True)
class Caller:
    """What the policy needs to know about whoever asks (built from ``data.users.Actor``)."""

    role: str
    unit_code: str
    region_code: str
    department_code: str | None = None
    worker_id: int | None = None
    read_only: bool = False

    @classmethod
    def of(cls, actor: ActorLike) -> Caller:
        """The caller behind an actor (anything with role, unit_code, region_code …); without a
        role it is nobody in particular, and sees no class of field."""
        if isinstance(actor, Caller):
            return actor
        return cls(getattr(actor, "role", ""), actor.unit_code, actor.region_code,
                   getattr(actor, "department_code", None), getattr(actor, "worker_id", None),
                   bool(getattr(actor, "read_only", False)))

    @property
    def department(self) -> str | None:
        """The department whose cases alone this caller sees (department staff), else None."""
        return self.department_code if self.role == "department" else None


def sees(caller: ActorLike, cls: str | None) -> bool:
    """True when ``caller`` sees fields of class ``cls`` unmasked (None: an ordinary field)."""
    if cls is None:
        return True
    if cls not in SEES:
        raise ValueError(f"unknown field class {cls!r}; classes: {', '.join(CLASSES)}")
    c = Caller.of(caller)
    return not c.read_only and c.role in SEES[cls]


def covers(caller: ActorLike, code: str | None) -> bool:
    """True when grid unit ``code`` lies in the caller's jurisdiction subtree."""
    return bool(code) and str(code).startswith(Caller.of(caller).unit_code)


def narrow(caller: ActorLike, unit: str | None) -> str:
    """The unit to read: ``unit`` when it lies inside the jurisdiction, else ``OutsideJurisdiction``."""
    own = Caller.of(caller).unit_code
    if not unit:
        return own
    if not unit.startswith(own):
        raise OutsideJurisdiction(f"unit {unit} is outside your jurisdiction {own}")
    return unit


def incident_visible(caller: ActorLike, cell_code: str | None, department_code: str | None,
                     reporter_id: int | None) -> bool:
    """The row rule for one incident: in the jurisdiction (and the department's), or reported by the caller."""
    c = Caller.of(caller)
    if c.worker_id is not None and reporter_id == c.worker_id:
        return True
    if c.department and department_code != c.department:
        return False
    return covers(c, cell_code)


def row_params(caller: ActorLike, unit: str | None = None) -> dict[str, Any]:
    """The bound parameters of the row rule every SQL file applies the same way:
    ``cell_code LIKE %(scope)s || '%%'``, ``%(department)s`` (NULL: any) and ``%(reporter_id)s``
    (the caller's own reports, read from anywhere in the region when no narrower unit is asked)."""
    c = Caller.of(caller)
    scope = narrow(c, unit)
    return {"region_code": c.region_code, "scope": scope, "department": c.department,
            "reporter_id": c.worker_id if not unit else None}


def mask_value(value: object, how: str) -> str | None:
    """A value masked the way ``how`` says (the SQL masks in ``layers.base`` read the same)."""
    if value is None:
        return None
    if how == "hide":
        return None
    text = str(value)
    if how == "name":
        return text[:1] + "*" * max(len(text) - 1, 1)
    if how == "phone":
        return text[:3] + "****" + text[-4:]
    if how == "label":
        return text.partition(":")[0] + ":*"
    raise ValueError(f"unknown mask {how!r}; masks: {', '.join(MASKS)}")


def reveal_reason(text: object) -> str:
    """A reveal's stated reason (PIPL: a purpose for each access), or ``ValueError`` when there is none."""
    reason = str(text or "").strip()
    if len(reason) < REASON_MIN:
        raise ValueError(f"state why you need the full record (at least {REASON_MIN} characters)")
    if len(reason) > REASON_MAX or any(ord(ch) < 32 for ch in reason):
        raise ValueError(f"the reason is one line of at most {REASON_MAX} characters")
    return reason


def suppress(caller: ActorLike, count: int | None) -> int | None:
    """A people count as ``caller`` may see it: 1–4 become None unless the role sees PEOPLE_COUNT."""
    if count is None or sees(caller, PEOPLE_COUNT):
        return count
    return None if 0 < count < SMALL_COUNT else count


def mask_record(caller: ActorLike, record: dict[str, Any], fields: dict[str, tuple[str, str]] = INCIDENT_FIELDS,
                own: bool = False) -> tuple[dict[str, Any], list[str]]:
    """``record`` with every classed field masked for ``caller``, and the classed fields revealed.

    ``own``: the caller reported this record, so its personal fields are theirs to read.
    """
    out = dict(record)
    revealed = []
    for key, (cls, how) in fields.items():
        if key not in out:
            continue
        if sees(caller, cls) or (own and cls == PERSONAL and not Caller.of(caller).read_only):
            if out[key] not in (None, ""):
                revealed.append(key)
        else:
            out[key] = mask_value(out[key], how)
    return out, revealed


def event_visible(caller: ActorLike, event: dict[str, Any]) -> dict[str, Any] | None:
    """A live-stream notification as ``caller`` may receive it, or None (not theirs).

    Events carry no personal fields (id, region, action, state, level, cell, time); the row rule
    decides: the region and jurisdiction by ``cell_code``, the department by ``department_code``
    when the event carries one (an event without it reaches department staff without its incident
    id, so they refresh without learning which case moved). A dispatch to another department
    reaches department staff as a bare resync: the case may have been theirs (a reassignment), and
    their table drops it without learning where it went. Bulk and resync messages go to all.
    """
    if "incident_id" not in event:
        return event
    c = Caller.of(caller)
    if event.get("region_code") != c.region_code:
        return None
    if not (covers(c, event.get("cell_code")) or (c.worker_id is not None and event.get("reporter_id") == c.worker_id)):
        return None
    if c.department:
        if "department_code" not in event:
            return {"resync": True}
        if event["department_code"] != c.department:
            return {"resync": True} if event.get("action") == "dispatch" else None
    return event


# -- reveals: noted where they happen, audited once per request by the web layer ------------

@dataclass
class Reveals:
    """What one request revealed: an action name, objects with the fields revealed, and a count."""

    action: str = "reveal"
    objects: dict[str, list[str]] = field(default_factory=dict)
    count: int = 0
    actor: object = None  # whoever the fields were revealed to (an API key's account on Open311)

    def add(self, object_ref: str, fields: Iterable[str], count: int = 1, action: str | None = None,
            actor: object = None) -> None:
        """Record that ``fields`` of ``object_ref`` (e.g. ``incident:<id>``) were revealed."""
        names = sorted(set(fields))
        if not names:
            return
        if self.actor is None:
            self.actor = actor
        if action and self.action == "reveal":
            self.action = action
        known = self.objects.setdefault(object_ref, [])
        known.extend(f for f in names if f not in known)
        self.count += count

    def __bool__(self) -> bool:
        return bool(self.objects)

    def detail(self) -> dict[str, Any]:
        """The audit row's detail: what was revealed, per object (capped, with the total)."""
        items = dict(list(self.objects.items())[:200])
        return {"revealed": items, "objects": len(self.objects)}


_REVEALS: contextvars.ContextVar[Reveals | None] = contextvars.ContextVar("onemap_reveals", default=None)


def start_reveals() -> contextvars.Token[Reveals | None]:
    """Begin collecting this request's reveals (the web layer calls it before each request)."""
    return _REVEALS.set(Reveals())


def take_reveals(token: contextvars.Token[Reveals | None] | None = None) -> Reveals | None:
    """This request's reveals, and stop collecting."""
    current = _REVEALS.get()
    if token is not None:
        _REVEALS.reset(token)
    else:
        _REVEALS.set(None)
    return current


def note_reveal(object_ref: str, fields: Iterable[str], count: int = 1, action: str | None = None,
                actor: object = None) -> None:
    """Record a reveal in the current request's collector (no collector: nothing to record —
    callers outside a request, such as exports, audit on their own)."""
    current = _REVEALS.get()
    if current is not None:
        current.add(object_ref, fields, count, action, actor)
