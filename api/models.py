"""The models of the JSON API (/api/v1 and /api/exports): what each route reads and answers.

Query models parse and bound the query string (``web.params.parse_query``) and, through
spectree, describe it in the generated OpenAPI (``api/openapi.py``): one definition for both.
Body models describe the JSON bodies whose rules live in the data layer (``data.incidents``
validates reports, actions and positions with per-field messages); response models describe
the answers (documentation only: a response is never re-validated at run time, so a new field
cannot turn into a 500).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from data.incidents import ACTION_ROLES, DESCRIPTION_MAX, STATES
from data.routing import reach
from domain.phase import FILTER_WORDS
from web.params import Bbox, Bool, CommaList, Int, QueryModel, Text, Time

Kind = Literal[reach.FACILITY_KINDS]  # type: ignore[valid-type]


# --- queries -----------------------------------------------------------------------------------

class IncidentListQuery(QueryModel):
    """Filters and paging of ``GET /api/v1/incidents``."""

    bbox: Bbox | None = None
    unit: Text(32, "any grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]
    state: CommaList | None = Field(None, description="comma-separated states, or open (the open phase): "
                                    + ", ".join(FILTER_WORDS))
    category: CommaList | None = Field(None, description="comma-separated category codes")
    since: Time | None = None
    until: Time | None = None
    overdue: Bool = False
    limit: Int(1, 500) = 50  # type: ignore[valid-type]
    offset: Int(0, 10_000_000) = 0  # type: ignore[valid-type]

    @field_validator("state")
    @classmethod
    def _known_states(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = set(value or ()) - set(FILTER_WORDS)
        if unknown:
            raise ValueError(f"unknown state(s) {', '.join(sorted(unknown))}; use {', '.join(FILTER_WORDS)}")
        return value


class SinceQuery(QueryModel):
    """``GET /api/v1/patrol-coverage``: since when (default: the last 24 hours)."""

    since: Time | None = None


class RouteQuery(QueryModel):
    """``GET /api/v1/routes``: both ends."""

    origin: Text(200, "lon,lat | facility:<id> | department:<code> | worker:<id>") = Field(  # type: ignore[valid-type]
        alias="from")
    to: Text(200, "lon,lat | incident:<uuid>")  # type: ignore[valid-type]


class FromQuery(QueryModel):
    """``GET /api/v1/incidents/{id}/route``: where the responder starts."""

    origin: Text(200, "lon,lat | facility:<id> | department:<code> | worker:<id>") = Field(  # type: ignore[valid-type]
        alias="from")


class RespondersQuery(QueryModel):
    """``GET /api/v1/incidents/{id}/responders``."""

    limit: Int(1, 100) = 10  # type: ignore[valid-type]


class IsochroneQuery(QueryModel):
    """``GET /api/v1/isochrones``: a facility kind and a travel time."""

    kind: Kind = "police_station"
    minutes: Int(1, 240) = reach.TOWN_MINUTES  # type: ignore[valid-type]


class KindQuery(QueryModel):
    """``GET /api/v1/coverage`` and ``/coverage/gaps``: a facility kind."""

    kind: Kind = "governance_centre"


class SuggestQuery(QueryModel):
    """``GET /api/v1/coverage/suggest``."""

    kind: Kind = "governance_centre"
    minutes: Int(1, 240) | None = None  # type: ignore[valid-type]
    picks: Int(1, 5) = 1  # type: ignore[valid-type]


# --- bodies --------------------------------------------------------------------------------------

class Body(BaseModel):
    """Base of request bodies: extra keys are allowed (the data layer names the bad ones)."""

    model_config = ConfigDict(extra="allow")


class ReportIn(Body):
    """A report from the field app (idempotent on ``id``)."""

    id: str = Field(description="a UUID made by the phone; the idempotency key", json_schema_extra={"format": "uuid"})
    category: str = Field(description="a category code from /api/v1/categories")
    description: str = Field("", max_length=DESCRIPTION_MAX)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    observed_at: datetime = Field(description="when the worker saw it, with a zone; not in the future")


class ActionIn(Body):
    """Fields of a state-machine action (all optional)."""

    note: str | None = Field(None, max_length=DESCRIPTION_MAX)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    department: str | None = Field(None, description="dispatch: a department code (default: the category's)")
    expected_version: int | None = Field(None, ge=0, description="the incident's `version` as read; "
                                         "409 `stale` if someone changed it since")


class Fix(Body):
    """One GPS fix of a worker's phone."""

    at: datetime
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(None, ge=0, lt=100_000)


class PositionsIn(Body):
    """A batch of GPS fixes (resent fixes are stored once)."""

    positions: list[Fix] = Field(min_length=1, max_length=1000)


class ExportIn(Body):
    """An export: layers, format, CRS and filters (``POST /api/exports`` and ``/plan``)."""

    layers: list[str] | str = Field(description="layer names (a list, or one comma-separated string)")
    format: Literal["gpkg", "geojson", "fgb", "shp", "kml", "csv"] = "gpkg"
    crs: str = Field("EPSG:4490", description="EPSG:4326, EPSG:4490, EPSG:4545 or GCJ-02")
    since: str | None = Field(None, description="ISO 8601 with a zone, or a plain date in the region's zone")
    until: str | None = None
    categories: list[str] | str | None = None
    states: list[str] | str | None = None
    unit: str | None = None
    bbox: list[float] | str | None = Field(None, description="west,south,east,north")


# --- responses -----------------------------------------------------------------------------------

class Out(BaseModel):
    """Base of response models: documentation; more fields may appear."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Out):
    """What went wrong, per field when the input was at fault."""

    code: str
    message: str
    fields: dict[str, str] | None = None
    allowed: list[str] | None = Field(None, description="409: the actions the state allows")
    outside_m: float | None = Field(None, description="422: how far outside the county the point is")


class Error(Out):
    """Every 4xx and 5xx of the JSON API: ``{"error": {...}}``."""

    error: ErrorDetail


class Me(Out):
    """The caller behind the token or session."""

    username: str
    role: str
    unit_code: str
    region_code: str
    department_code: str | None = None
    worker_id: int | None = None


class Category(Out):
    """An incident category."""

    code: str
    name: str
    name_en: str | None = None
    gbt31000_domain: str | None = None
    department_kind: str | None = None


class Categories(Out):
    """Documented as a list: ``[Category, ...]``."""


class Incident(Out):
    """An incident with its state, deadline and (on a single read) its timeline."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    category: str
    state: Literal[STATES]  # type: ignore[valid-type]
    handling_level: int | None = Field(None, description="4 grid, 3 village, 2 town, 1 banner")
    due_at: str | None = None
    overdue: bool | None = None
    cell_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    timeline: list[dict[str, Any]] | None = None


class IncidentPage(Out):
    """A page of incidents; ``next`` is the URL of the following page when there is one."""

    items: list[Incident]
    limit: int
    offset: int
    next: str | None = None


class Photo(Out):
    """A stored photo."""

    id: int


class Stored(Out):
    """How many GPS fixes were new, of how many received."""

    stored: int
    received: int


class PatrolCoverage(Out):
    """Cells of the caller's jurisdiction visited by a worker since a time."""

    since: str
    cells: int
    visited: int
    items: list[dict[str, Any]]


class Feature(Out):
    """A GeoJSON Feature (a route, an isochrone)."""

    type: Literal["Feature"]
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None


class FeatureCollection(Out):
    """A GeoJSON FeatureCollection (coverage gaps)."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class Responders(Out):
    """Candidate responders ranked by travel time."""

    items: list[dict[str, Any]]


class Coverage(Out):
    """The coverage KPI and its cells."""

    kpi: dict[str, Any] | None = None
    cells: list[dict[str, Any]] | None = None


class Suggestion(Out):
    """Where new stations would close the most gap."""

    picks: list[dict[str, Any]] | None = None


class ExportPlan(Out):
    """Counts per layer before an export, and the file name it will have."""

    counts: dict[str, int]
    total: int
    file: str


class ExportJob(Out):
    """A background export job (``file_url`` once it is done)."""

    id: str | None = None
    state: str | None = None
    status_url: str | None = None
    file_url: str | None = None


ACTIONS = tuple(sorted(ACTION_ROLES))
