"""The registries' API (/api/v1/registry): houses, households, people, their visit log, reveals,
counts, incident links and xlsx exports. Views adapt HTTP to ``data.registry``; the rules (who
may, which rows, which fields, idempotency on the client's UUID) live there and in the database.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import Field

from api.field import VisitIn
from api.models import Body, Out
from api.openapi import documented
from api.v1 import RateLimiter, gate
from config import Settings
from data import registry, registry_groups, registry_other, registry_writes, registry_xlsx_x, visits
from db.core import pooled, writer
from web.errors import error_body, json_body
from web.params import Bool, Int, QueryModel, Text, parse_query

BODY_MAX = 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class HouseIn(Body):
    """A house (实有房屋), idempotent on ``uid``: the same uid again updates it."""

    uid: str = Field(description="a UUID made by the client", json_schema_extra={"format": "uuid"})
    address: str = Field(max_length=registry.TEXT)
    use: str = Field("residential", description="residential, commercial, mixed, public, industrial, agricultural, "
                                                "other")
    floors: int | None = Field(None, ge=1, le=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    footprint: dict | str | None = Field(None, description="the outline: a GeoJSON Polygon (EPSG:4326) that is valid, "
                                                           "touches the house's cell and lies within 100 m of its "
                                                           "point; absent keeps the stored one, \"\" removes it")


class OrgIn(Body):
    """An organisation (综治组织, 非公有制经济组织, 社会组织), idempotent on ``uid``."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    kind: str = Field(description="governance, business or social")
    name: str = Field(max_length=registry.TEXT)
    credit_code: str | None = Field(None, description="统一社会信用代码, 18 characters")
    address: str = ""
    staff_count: int | None = Field(None, ge=0)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    cell_code: str | None = Field(None, description="the cell, for an organisation without a point")


class StaffIn(Body):
    """A staff member of an organisation, idempotent on ``uid`` (which stays with its organisation)."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    org: int | str = Field(description="the organisation's id or UUID")
    name: str = Field(max_length=60)
    post: str = Field("", max_length=60)
    phone: str | None = Field(None, description="stored masked only (138****5678)")


class PlaceIn(Body):
    """A public-order place (治安重点场所), idempotent on ``uid``; its cell is decided from its point."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    kind: str = Field(description="hotel, internet_cafe, entertainment, bathhouse, pawnshop, scrap, other")
    name: str = Field(max_length=registry.TEXT)
    org: int | str | None = Field(None, description="the organisation running it (id or UUID)")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class SchoolIn(Body):
    """A school and its surroundings (学校及周边), idempotent on ``uid``."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    name: str = Field(max_length=registry.TEXT)
    stage: str = Field("primary", description="kindergarten, primary, middle, high, vocational, other")
    students: int | None = Field(None, ge=0)
    surroundings: str = Field("", max_length=2000, description="周边治安情况")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class LineIn(Body):
    """A road or line under protection (护路护线), idempotent on ``uid``."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    kind: str = Field(description="road, railway, pipeline, power, other")
    name: str = Field(max_length=registry.TEXT)
    unit_code: str = Field(max_length=15, description="the responsible grid unit (in your jurisdiction)")
    geometry: dict | None = Field(None, description="a GeoJSON LineString or MultiLineString (EPSG:4326)")


class Staff(Out):
    """A staff member as your role may see them (the phone is only ever stored masked)."""

    id: int
    uid: str | None
    name: str | None
    post: str
    phone_masked: str | None


class HouseholdIn(Body):
    """A household (户) in a house, idempotent on ``uid``."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    house: int | str = Field(description="the house's id or UUID")
    kind: str = Field("family", description="family or collective")
    moved_out_at: str | None = Field(None, description="YYYY-MM-DD when the household left")


class PersonIn(Body):
    """A person (实有人口), idempotent on ``uid``. Sex and birth date come from a valid ID number."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    household: int | str | None = Field(None, description="the household's id or UUID")
    cell_code: str | None = Field(None, description="the cell, for a person without a household")
    name: str = Field(max_length=60)
    id_number: str | None = Field(None, description="18 characters, GB 11643 check digit verified; stored masked")
    sex: str | None = Field(None, description="M or F (only without an ID number)")
    birth_date: str | None = Field(None, description="YYYY-MM-DD (only without an ID number)")
    ethnicity: str = "汉族"
    residence: str = Field("registered", description="registered, migrant, overseas or unregistered")
    registered_address: str = ""
    relation: str = ""
    phone: str | None = Field(None, description="stored masked; read in clear only by a reveal")
    moved_out_at: str | None = Field(None, description="YYYY-MM-DD when the person left the county")


class HouseholdVisitIn(VisitIn):
    """A visit (日走访) to a household, idempotent on the phone's ``id``, with optional flags."""

    flags: list[str] = Field(default_factory=list, description="nobody_home, needs_help, dispute, hazard, changed")


class HouseQuery(QueryModel):
    """A unit, an address search and a page."""

    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]
    q: Text(100, "part of the address") | None = None  # type: ignore[valid-type]
    limit: Int(1, registry.PAGE_MAX) = 100  # type: ignore[valid-type]
    offset: Int(0, 10_000_000) = 0  # type: ignore[valid-type]


class Saved(Out):
    """A stored registry row: its id, client UUID and the cell the database put it in."""

    id: int
    uid: str
    cell_code: str


class RevealIn(Body):
    """Why the full record is needed (PIPL: a purpose for each access); audited."""

    reason: str = Field(min_length=4, max_length=200)


class LinkIn(Body):
    """Link an incident to a person or a house involved."""

    incident_id: str = Field(json_schema_extra={"format": "uuid"})
    person_id: int | None = None
    house_id: int | None = None


class Linked(Out):
    """Whether the link is new."""

    created: bool


class GroupIn(Body):
    """A person's membership of a special group."""

    kind: str = Field(description="released_prisoner, community_correction, mental_disorder, drug_user, hiv, "
                                  "at_risk_youth")
    since: str | None = Field(None, description="YYYY-MM-DD (default today)")


class FollowupIn(Body):
    """A follow-up of a special-group member: help (帮扶) or control (管控)."""

    kind: str = Field(description="help or control")
    note: str = Field("", max_length=2000)
    at: datetime | None = None


class RecordIn(Body):
    """A record of a local ("X") type, idempotent on ``uid``; ``data`` follows the type's fields."""

    uid: str = Field(json_schema_extra={"format": "uuid"})
    cell_code: str = Field(max_length=15)
    data: dict


class Created(Out):
    """The stored row's id and whether it is new."""

    id: int
    created: bool


class PageQuery(QueryModel):
    """A unit and a page."""

    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]
    limit: Int(1, 500) = 100  # type: ignore[valid-type]
    offset: Int(0, 10_000_000) = 0  # type: ignore[valid-type]


class PeopleQuery(QueryModel):
    """Filters and paging of ``GET /api/v1/registry/people``."""

    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]
    household: Int(1, 10**15) | None = None  # type: ignore[valid-type]
    id_number: Text(18, "look a person up by ID number (matched by its keyed hash)") | None = None  # type: ignore[valid-type]
    include_moved: Bool = False
    limit: Int(1, registry.PAGE_MAX) = 100  # type: ignore[valid-type]
    offset: Int(0, 10_000_000) = 0  # type: ignore[valid-type]


class UnitQuery(QueryModel):
    """A unit inside your jurisdiction (default: all of it)."""

    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]


class ExportQuery(QueryModel):
    """Which registry, for which unit."""

    kind: Text(44, "houses, households, people, orgs, staff, places, schools, lines or x:CODE (a local type)")  # type: ignore[valid-type]
    unit: Text(32, "a grid unit code in your jurisdiction") | None = None  # type: ignore[valid-type]


class Person(Out):
    """A person as your role may see them: ID number and phone masked; special groups only for
    the roles that handle them."""

    id: int
    uid: str
    name: str | None
    cell_code: str
    id_masked: str | None = None
    phone_masked: str | None = None


class People(Out):
    """A page of people."""

    items: list[Person]


class Count(Out):
    """Registry counts for one unit (1–4 suppressed for roles without people_count)."""

    unit_code: str
    name: str
    population: int | None
    households: int | None
    houses: int


class SpecialCount(Out):
    """Special-group members of one kind in one unit, and how many were followed up on time."""

    unit_code: str
    kind: str
    members: int | None
    on_time: int | None


def _dsn() -> str:
    return current_app.config["ONEMAP_DSN"]


def _actor():
    return request.environ["onemap.actor"]


def _save(validate, save, kind: str):
    """A registry write; with an ``Idempotency-Key`` header it is made once: a replay with the same
    body gets the first answer's body again (status 200, ``Idempotent-Replayed: true``), another
    body under the same key 409."""
    key = registry_writes.write_key(request.headers.get("Idempotency-Key"))
    data, refused = json_body(BODY_MAX)
    if refused is not None:
        return refused
    item = validate(data)
    with writer(_dsn()) as conn:
        if key is None:
            stored, created = save(conn, _actor(), item)
            replayed = False
        else:
            stored, status, replayed = registry_writes.save_once(conn, _actor(), key, kind, item, save)
            created = status == 201 and not replayed
        conn.commit()
    response = jsonify(stored)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, (201 if created else 200)


def _register_writes(bp: Blueprint) -> None:
    @bp.post("/registry/houses")
    @documented(json=HouseIn, ok=(201, Saved), HTTP_200=(Saved, "an update (or a retry) of a stored house"),
                errors=(400, 401, 403, 413, 422, 429))
    def add_house():
        """Add or update a house; the database puts it in the cell at its point (in your jurisdiction)."""
        return _save(registry.validate_house, registry.save_house, "house")

    @bp.post("/registry/households")
    @documented(json=HouseholdIn, ok=(201, Saved), HTTP_200=(Saved, "an update (or a retry)"),
                errors=(400, 401, 403, 413, 422, 429))
    def add_household():
        """Add or update a household in a house of your jurisdiction."""
        return _save(registry.validate_household, registry.save_household, "household")

    @bp.post("/registry/people")
    @documented(json=PersonIn, ok=(201, Saved), HTTP_200=(Saved, "an update (or a retry)"),
                errors=(400, 401, 403, 413, 422, 429))
    def add_person():
        """Add or update a person (ID number check digit verified; ID and phone stored masked)."""
        return _save(registry.validate_person, registry.save_person, "person")

    @bp.post("/registry/households/<household>/visits")
    @documented(json=HouseholdVisitIn, ok=(201, Out), HTTP_200=(Out, "a retry of a stored visit"),
                errors=(400, 401, 403, 404, 409, 413, 422, 429))
    def add_visit(household: str):
        """Log a visit (日走访) to a household (its id or UUID): a visit of the field log, linked to the
        household with its flags; idempotent on the visit's ``id`` (another body under it: 409)."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        visit = visits.validate(data, datetime.now(timezone.utc))
        flags = registry.visit_flags(data)
        with writer(_dsn()) as conn:
            hid = registry.household_ref(conn, _actor(), household[:40])
            conn.rollback()
            item, created = visits.record(conn, _actor(), {**visit, "kind": "household", "household_id": hid,
                                                           "flags": flags})
            registry.link_visit(conn, _actor(), hid, item["id"], flags)
        return jsonify(item), (201 if created else 200)

    @bp.post("/registry/incident-links")
    @documented(json=LinkIn, ok=(200, Linked), errors=(400, 401, 403, 404, 413, 422, 429))
    def link():
        """Link an incident you can see to a person or house of your jurisdiction."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        if not isinstance(data, dict):
            return error_body(422, "invalid", "send a JSON object")
        pid, hid = data.get("person_id"), data.get("house_id")
        for key, value in (("person_id", pid), ("house_id", hid)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                return error_body(422, "invalid", f"{key} is a row id", {key: "a positive integer"})
        with writer(_dsn()) as conn:
            created = registry.link_incident(conn, _actor(), data.get("incident_id"), pid, hid)
        return jsonify({"created": created})


OTHER_WRITES = (("orgs", "org", OrgIn, "an organisation in a cell of your jurisdiction"),
                ("org-staff", "staff", StaffIn, "a staff member of an organisation of your jurisdiction"),
                ("places", "place", PlaceIn, "a public-order place (its cell from its point)"),
                ("schools", "school", SchoolIn, "a school and its surroundings (its cell from its point)"),
                ("lines", "line", LineIn, "a protected road or line of a unit in your jurisdiction"))


def _register_other(bp: Blueprint) -> None:
    for path, kind, model, what in OTHER_WRITES:
        def view(kind=kind):
            return _save(registry_other.VALIDATE[kind], registry_other.SAVE[kind], kind)
        view.__name__ = f"save_{kind}"
        view.__doc__ = f"Add or update {what}; idempotent on uid (a uid of another record: 409)."
        bp.post(f"/registry/{path}")(documented(
            json=model, ok=(201, Saved), HTTP_200=(Saved, "an update (or a retry)"),
            errors=(400, 401, 403, 404, 409, 413, 422, 429))(view))

    @bp.get("/registry/orgs/<int:org_id>/staff")
    @documented(ok=(200, list[Staff]), errors=(401, 404, 429))
    def org_staff(org_id: int):
        """The staff of an organisation of your jurisdiction (names masked for roles without personal)."""
        with pooled(_dsn()) as conn:
            return jsonify(registry_other.staff_of(conn, _actor(), org_id))


def _register_groups(bp: Blueprint) -> None:
    @bp.post("/registry/people/<int:person_id>/special-groups")
    @documented(json=GroupIn, ok=(200, Created), errors=(400, 401, 403, 404, 413, 422, 429))
    def join(person_id: int):
        """Record a person's special-group membership (roles that handle special groups)."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        with writer(_dsn()) as conn:
            sid, created = registry_groups.join_group(conn, _actor(), person_id, data)
            conn.commit()
        return jsonify({"id": sid, "created": created})

    @bp.post("/registry/special-groups/<int:special_id>/followups")
    @documented(json=FollowupIn, ok=(201, Created), errors=(400, 401, 403, 404, 413, 422, 429))
    def followup(special_id: int):
        """Append a follow-up (帮扶 help / 管控 control) to a special-group record."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        with writer(_dsn()) as conn:
            fid = registry_groups.add_followup(conn, _actor(), special_id, data)
            conn.commit()
        return jsonify({"id": fid, "created": True}), 201

    @bp.get("/registry/other/<which>")
    @documented(query=PageQuery, ok=(200, list[Out]), errors=(400, 401, 403, 404, 422, 429))
    def other(which: str):
        """Organisations, public-order places, schools, disputes (with mediation) or protected lines."""
        q = parse_query(PageQuery)
        with pooled(_dsn()) as conn:
            return jsonify(registry_groups.other(conn, _actor(), which[:20], q.unit, q.limit, q.offset))

    @bp.get("/registry/x")
    @documented(ok=(200, list[Out]), errors=(401, 429))
    def x_kinds():
        """The local ("X") record types of your region and their declared fields."""
        with pooled(_dsn()) as conn:
            return jsonify(registry_groups.kinds(conn, _actor()))

    @bp.post("/registry/x/<kind>")
    @documented(json=RecordIn, ok=(201, Saved), HTTP_200=(Saved, "an update (or a retry)"),
                errors=(400, 401, 403, 404, 413, 422, 429))
    def x_save(kind: str):
        """Add or update a record of a local type, checked against its declared fields."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        with writer(_dsn()) as conn:
            stored, created = registry_groups.save_record(conn, _actor(), kind[:40], data)
            conn.commit()
        return jsonify(stored), (201 if created else 200)

    @bp.get("/registry/x/<kind>")
    @documented(query=PageQuery, ok=(200, list[Out]), errors=(400, 401, 403, 404, 422, 429))
    def x_list(kind: str):
        """Records of a local type in your jurisdiction."""
        q = parse_query(PageQuery)
        with pooled(_dsn()) as conn:
            return jsonify(registry_groups.records(conn, _actor(), kind[:40], q.unit, q.limit, q.offset))


def _register_reads(bp: Blueprint) -> None:
    @bp.get("/registry/people")
    @documented(query=PeopleQuery, ok=(200, People), errors=(400, 401, 403, 422, 429))
    def list_people():
        """People of your jurisdiction, masked for your role (command and analysis roles: 403, use counts)."""
        q = parse_query(PeopleQuery)
        with pooled(_dsn()) as conn:
            items = registry.people(conn, _actor(), unit=q.unit, household_id=q.household, id_number=q.id_number,
                                    include_moved=q.include_moved, limit=q.limit, offset=q.offset)
        return jsonify({"items": items})

    @bp.get("/registry/people/<int:person_id>")
    @documented(ok=(200, Person), errors=(401, 403, 404, 429))
    def get_person(person_id: int):
        """One person, masked for your role, with the incidents you may see."""
        with pooled(_dsn()) as conn:
            return jsonify(registry.person(conn, _actor(), person_id))

    @bp.post("/registry/people/<int:person_id>/reveal")
    @documented(json=RevealIn, ok=(200, Person), errors=(400, 401, 403, 404, 413, 422, 429))
    def reveal(person_id: int):
        """The full record with the clear ID number and phone: needs a reason; audited by the database."""
        data, refused = json_body(BODY_MAX)
        if refused is not None:
            return refused
        reason = data.get("reason") if isinstance(data, dict) else None
        with writer(_dsn()) as conn:
            return jsonify(registry.reveal(conn, _actor(), person_id, reason))

    @bp.get("/registry/houses")
    @documented(query=HouseQuery, ok=(200, list[Out]), errors=(400, 401, 403, 422, 429))
    def list_houses():
        """Houses of your jurisdiction (search by address) with their households (roles that see addresses)."""
        q = parse_query(HouseQuery)
        with pooled(_dsn()) as conn:
            return jsonify({"items": registry.houses(conn, _actor(), unit=q.unit, q=q.q, limit=q.limit,
                                                     offset=q.offset)})

    @bp.get("/registry/houses/<int:house_id>")
    @documented(ok=(200, Out), errors=(401, 403, 404, 429))
    def get_house(house_id: int):
        """One house with its households and the incidents you may see."""
        with pooled(_dsn()) as conn:
            return jsonify(registry.house(conn, _actor(), house_id))

    @bp.get("/registry/households/<int:household_id>")
    @documented(ok=(200, Out), errors=(401, 403, 404, 429))
    def get_household(household_id: int):
        """One household with its members (masked for your role) and its visit log."""
        with pooled(_dsn()) as conn:
            return jsonify(registry.household(conn, _actor(), household_id))

    @bp.get("/registry/counts")
    @documented(query=UnitQuery, ok=(200, list[Count]), errors=(400, 401, 403, 422, 429))
    def counts():
        """Population, households and houses per unit one level down, from the registry."""
        q = parse_query(UnitQuery)
        with pooled(_dsn()) as conn:
            return jsonify(registry.counts(conn, _actor(), q.unit))

    @bp.get("/registry/special-groups")
    @documented(query=UnitQuery, ok=(200, list[SpecialCount]), errors=(400, 401, 403, 422, 429))
    def special():
        """Special-group members per unit and kind, followed up on time (the roles that handle them)."""
        q = parse_query(UnitQuery)
        with pooled(_dsn()) as conn:
            return jsonify(registry.special_counts(conn, _actor(), q.unit))

    @bp.get("/registry/export")
    @documented(query=ExportQuery, errors=(400, 401, 403, 422, 429))
    def export():
        """A registry as an xlsx sheet with Chinese headers (people: roles that may; audited)."""
        q = parse_query(ExportQuery)
        with writer(_dsn()) as conn:
            body, _rows = registry_xlsx_x.export_sheet(conn, _actor(), q.kind, q.unit)
            conn.commit()
        return Response(body, mimetype=XLSX, headers={
            "Content-Disposition": f"attachment; filename=registry-{q.kind.replace(':', '-')}.xlsx",
            "Cache-Control": "no-store"})


def create_blueprint(window_s: float = 60.0) -> Blueprint:
    """The registry routes under /api/v1 (same gate and rate limit as /api/v1)."""
    bp = Blueprint("api_registry", __name__, url_prefix="/api/v1")
    bp.before_request(gate(RateLimiter(Settings().api_rate, window_s)))
    _register_writes(bp)
    _register_groups(bp)
    _register_other(bp)
    _register_reads(bp)
    return bp
