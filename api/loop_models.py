"""The models of the loop's end at /api/v1 (``api.loop``): duplicates and merge, return visits,
mediation cases, bulletins. Same conventions as ``api.models``: query models parse and bound,
body and response models document."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models import Body, Incident, Out
from data.evaluation import DUPLICATE_HOURS, DUPLICATE_RADIUS_M, OUTCOMES
from data.incidents import DESCRIPTION_MAX
from data.mediation import KINDS
from web.params import Int, QueryModel, Text

Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
MediationKind = Literal[KINDS]  # type: ignore[valid-type]


class DuplicateQuery(QueryModel):
    """``GET /api/v1/incidents/duplicates``: where and what a report is about, before it is sent."""

    category: Text(64, "a category code")  # type: ignore[valid-type]
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    radius_m: Int(10, 2000) = DUPLICATE_RADIUS_M  # type: ignore[valid-type]
    hours: Int(1, 720) = DUPLICATE_HOURS  # type: ignore[valid-type]


class VisitDueQuery(QueryModel):
    """``GET /api/v1/return-visits/due``."""

    days: Int(1, 366) = 30  # type: ignore[valid-type]
    limit: Int(1, 500) = 100  # type: ignore[valid-type]


class BulletinListQuery(QueryModel):
    """``GET /api/v1/bulletins``."""

    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]
    period: Text(16, "2026-W47 or 2026-11") | None = None  # type: ignore[valid-type]
    limit: Int(1, 200) = 50  # type: ignore[valid-type]


class MergeIn(Body):
    """Merge this incident (a duplicate) into ``into``."""

    into: str = Field(description="the incident that stays", json_schema_extra={"format": "uuid"})
    note: str | None = Field(None, max_length=DESCRIPTION_MAX)


class VisitIn(Body):
    """A return visit's result; ``reopen`` with ``unsatisfied`` reopens the case."""

    outcome: Outcome
    note: str | None = Field(None, max_length=DESCRIPTION_MAX)
    reopen: bool = False


class MediationIn(Body):
    """Accept a dispute as a mediation case."""

    kind: MediationKind


class MediationStepIn(Body):
    """The next step: assign (station_id or team), mediate, agree or refer (text), visit (outcome)."""

    step: Literal["assign", "mediate", "agree", "refer", "visit"]
    station_id: int | None = Field(None, ge=1, le=2**63 - 1, description="assign: a facility of kind mediation_station")
    team: str | None = Field(None, max_length=200, description="assign: an expert team instead of a station")
    text: str | None = Field(None, max_length=DESCRIPTION_MAX, description="agree: the agreement; refer: why")
    outcome: Outcome | None = Field(None, description="visit: the parties' satisfaction")
    note: str | None = Field(None, max_length=DESCRIPTION_MAX)


class BulletinIn(Body):
    """Generate a bulletin now."""

    unit: str | None = Field(None, description="a grid unit code (default: your jurisdiction)")
    period: str = Field(description="an ISO week 2026-W47 or a month 2026-11")
    format: Literal["pdf", "xlsx"] = "pdf"
    lang: Literal["zh", "en"] = "zh"


class Duplicate(Out):
    """An open incident that may be the same case."""

    id: str
    category: str
    state: str
    cell_code: str
    received_at: str
    distance_m: int
    same_category: bool


class Duplicates(Out):
    """Suggested duplicates, nearest first."""

    items: list[Duplicate]


class ReportOut(Incident):
    """The stored report, with the open incidents it may duplicate."""

    duplicates: list[Duplicate] = []


class VisitDue(Out):
    """Resolved cases waiting for a return visit."""

    items: list[dict[str, Any]]


class MediationCase(Out):
    """A mediation case, its incident and its return visits."""

    id: int
    incident_id: str
    kind: str
    stage: str
    incident: dict[str, Any]


class Bulletin(Out):
    """A kept bulletin (download at ``url``)."""

    id: str
    unit_code: str
    period: str
    format: str
    lang: str
    file_name: str
    size_bytes: int
    url: str


class Bulletins(Out):
    """Kept bulletins, newest first."""

    items: list[Bulletin]
