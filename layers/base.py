"""What a layer is: its fields (Chinese names, Shapefile aliases, privacy), its SQL, its filters.

A layer's SQL file (``db/sql/layer_<name>.sql``) returns one row per feature with a text ``fid``,
a ``geom`` in EPSG:4326 and one column per field key. It receives every parameter of ``Query``
(NULL when not given) and applies the jurisdiction ``scope`` itself, because only it knows which
column ties a row to the grid. Everything generic — masking, small-count suppression, bbox,
property filters, paging — is composed around it here, so the map, the exports and the OGC API
share one definition and cannot disagree.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from psycopg2 import sql as psql

from data.policy import sql_column, sql_suppressed
from db.core import sql
from domain import policy, values

FIELD_TYPES = ("str", "int", "float", "bool", "datetime")
SMALL_COUNT = policy.SMALL_COUNT     # aggregates below this are suppressed (1–4 → NULL)
FILTERS = ("since", "until", "categories", "states", "unit")


class LayerError(ValueError):
    """Bad layer input (unknown layer, field or filter; a bad value); the message says what to do."""

    status = 400


class UnknownLayer(LayerError, KeyError):
    """No layer has that name."""

    status = 404

    def __str__(self) -> str:  # KeyError would print the repr
        return self.args[0]


class OutsideJurisdiction(LayerError, PermissionError):
    """The requested unit lies outside the caller's jurisdiction."""

    status = 403


class NotForRole(LayerError, PermissionError):
    """The layer's rows are of a class the caller's role does not see (``domain.policy``)."""

    status = 403


@dataclass(frozen=True)
class Field:
    """One attribute: ASCII key (map, OGC, filters), Chinese name (GPKG/CSV/KML), SHP alias."""

    key: str
    zh: str
    alias: str
    type: str = "str"
    personal: str | None = None          # None, or how to mask it: "name", "phone", "label", "hide"
    cls: str | None = None               # its class in domain.policy (personal fields: "personal" by default)
    small_count: bool = False            # a count in an aggregate: suppressed below SMALL_COUNT
    derived_from: str | None = None      # computed from this small count: suppressed with it
    map: bool = True                     # sent to the map
    export: bool = True                  # written by exports and the OGC API
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # filter shorthands (open → states)

    def __post_init__(self):
        if self.personal and self.cls is None:
            object.__setattr__(self, "cls", policy.PERSONAL)
        if self.personal not in (None, *policy.MASKS) or (self.cls and self.cls not in policy.CLASSES):
            raise ValueError(f"field {self.key}: mask {self.personal!r} / class {self.cls!r} unknown")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.key}: type {self.type!r} not in {FIELD_TYPES}")
        if not self.alias.isascii() or len(self.alias.encode()) > 10:
            raise ValueError(f"field {self.key}: Shapefile alias {self.alias!r} must be ASCII, ≤ 10 bytes")


@dataclass(frozen=True)
class Variant:
    """A map form of a layer (e.g. incidents as clusters per cell below a zoom, points above): its
    own SQL file (same contract as the layer's), its map fields, and the zooms it serves."""

    name: str
    sql_name: str
    fields: tuple[Field, ...]
    min_zoom: float | None = None      # served from this zoom on (None: from any zoom)
    max_zoom: float | None = None      # served below this zoom (None: up to any zoom)
    needs_bbox: bool = False           # only with a viewport (points: never the whole county)
    params: dict = field(default_factory=dict)

    def serves(self, zoom: float | None, bbox) -> bool:
        """True when this variant is the one for ``zoom`` and the viewport."""
        if self.needs_bbox and (bbox is None or zoom is None):
            return False
        if self.min_zoom is not None and (zoom is None or zoom < self.min_zoom):
            return False
        return self.max_zoom is None or zoom is None or zoom < self.max_zoom


@dataclass(frozen=True)
class Layer:
    """A layer: name, titles, SQL file, geometry type, fields, filters it understands, fixed params."""

    name: str
    title: str
    title_en: str
    sql_name: str
    geometry: str                       # GeoPackage/OGR type: Point, MultiPolygon, LineString …
    fields: tuple[Field, ...]
    filters: frozenset[str] = frozenset({"unit"})
    params: dict = field(default_factory=dict)
    time_key: str | None = None         # the field OGC ``datetime`` filters on
    map_simplify: float | None = None   # degrees; the map needs no more detail than this
    personal: bool = False              # rows are about people: every read is audited
    row_class: str | None = None        # a class of domain.policy the rows belong to (None: any role)
    variants: tuple[Variant, ...] = ()  # map forms (clusters, points): options of this layer, not side paths
    # The paging key (OGC API keyset pages): a column of the layer's SQL with an index that matches
    # its WHERE, and its SQL type; its text form must sort like it and equal ``fid`` (the next
    # link carries the last feature's id). Small layers page on ``fid`` itself.
    key: str = "fid"
    key_type: str = "text"

    def variant(self, zoom: float | None, bbox) -> Variant | None:
        """The map variant for ``zoom`` and the viewport (None: the layer's own rows)."""
        return next((v for v in self.variants if v.serves(zoom, bbox)), None)

    def field(self, key: str) -> Field:
        """The field called ``key`` (its ASCII key); ``LayerError`` lists the known ones."""
        for f in self.fields:
            if f.key == key and f.export:
                return f
        known = ", ".join(f.key for f in self.fields if f.export)
        raise LayerError(f"layer {self.name} has no field {key!r}; fields: {known}")

    @property
    def export_fields(self) -> tuple[Field, ...]:
        """The fields exports and the OGC API write."""
        return tuple(f for f in self.fields if f.export)


@dataclass(frozen=True)
class Query:
    """What the caller asked for; every member optional. Times are aware datetimes."""

    since: datetime | None = None
    until: datetime | None = None
    categories: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    unit: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    props: tuple[tuple[str, str], ...] = ()
    fid: str | None = None
    level: int | None = None          # handling level (1–4) of incidents; the map's filter

    def describe(self) -> dict:
        """The filters as plain JSON-able values, for the audit log."""
        out = {k: getattr(self, k) for k in ("since", "until", "categories", "states", "unit", "bbox", "fid")}
        out["props"] = dict(self.props)
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in out.items() if v}


def scope_of(actor, query: Query) -> str:
    """The grid unit the rows must lie under: the query's unit if inside the jurisdiction."""
    try:
        return policy.narrow(actor, query.unit)
    except policy.OutsideJurisdiction as exc:
        raise OutsideJurisdiction(str(exc)) from None


def allowed(layer: Layer, actor) -> None:
    """Refuse a layer whose rows are of a class the caller does not see (403)."""
    if layer.row_class and not policy.sees(actor, layer.row_class):
        raise NotForRole(f"layer {layer.name} ({layer.row_class}) is not shown to role "
                         f"{actor.role}{' (read-only)' if getattr(actor, 'read_only', False) else ''}")


def revealed(layer: Layer, actor, fields: tuple[Field, ...] | None = None) -> list[str]:
    """The classed fields (and the row class) of ``layer`` that ``actor`` reads unmasked."""
    out = [f.key for f in (fields if fields is not None else layer.export_fields)
           if f.personal and policy.sees(actor, f.cls)]
    if layer.row_class and policy.sees(actor, layer.row_class):
        out.append(layer.row_class)
    return out


def check(layer: Layer, query: Query) -> None:
    """Refuse filters the layer does not understand and malformed values, before any SQL runs."""
    for name in ("since", "until", "categories", "states"):
        if getattr(query, name) and name not in layer.filters:
            raise LayerError(f"layer {layer.name} cannot be filtered by {name}; it takes: "
                             f"{', '.join(sorted(layer.filters)) or 'no filters'}")
    if query.since and query.until and query.since >= query.until:
        raise LayerError("the time range is empty: since must come before until")
    if query.bbox is not None:
        w, s, e, n = query.bbox
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise LayerError("bbox must be west,south,east,north in degrees with west < east and south < north")
    for key, _ in query.props:
        layer.field(key)


def params(layer: Layer, actor, query: Query, now: datetime | None = None, outline: bool = False) -> dict:
    """The bound parameters every layer SQL file receives."""
    states = query.states
    if states:
        expanded: list[str] = []
        shorthands = next((f.values for f in layer.fields if f.key == "state"), {})
        for s in states:
            expanded.extend(shorthands.get(s, (s,)))
        states = tuple(expanded)
    rows = policy.row_params(actor)  # the row rule: jurisdiction, department, own reports
    return {**rows, "scope": scope_of(actor, query),
            "reporter_id": rows["reporter_id"] if not query.unit else None,
            "since": query.since, "until": query.until,
            "categories": list(query.categories) if query.categories else None,
            "states": list(states) if states else None,
            "now": now or datetime.now(timezone.utc), "outline": outline, "with_stats": True,
            "handling_level": query.level,
            **dict(zip(("bbox_w", "bbox_s", "bbox_e", "bbox_n"), query.bbox or (None,) * 4, strict=True)),
            # a property filter on a field that is also a fixed parameter (a gap layer's facility
            # kind) sets the parameter too, so the inner query computes what the filter asks for
            **layer.params, **{k: v for k, v in query.props if k in layer.params}}


def _column(f: Field, caller) -> psql.Composable:
    """The select expression of one field for ``caller``: masked or suppressed when it must be
    (``domain.policy`` decides; ``data.policy`` writes the SQL)."""
    col: psql.Composable = psql.SQL("r0.") + psql.Identifier(f.key)
    if f.personal:
        col = sql_column(col, f.cls, f.personal, caller)
    elif f.small_count:
        col = sql_suppressed(col, col, caller)
    elif f.derived_from:
        col = sql_suppressed(col, psql.SQL("r0.") + psql.Identifier(f.derived_from), caller)
    return psql.SQL("{} AS {}").format(col, psql.Identifier(f.key))


def _where(layer: Layer, query: Query, bind: dict) -> psql.Composable:
    """Conditions on the masked rows: bbox, property equality, one feature id."""
    conds: list[psql.Composable] = []
    if query.bbox is not None:
        bind.update(zip(("bbox_w", "bbox_s", "bbox_e", "bbox_n"), query.bbox, strict=True))
        conds.append(psql.SQL("r.geom && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)"))
    for i, (key, value) in enumerate(query.props):
        f = layer.field(key)
        name = f"prop_{i}"
        col = psql.SQL("r.") + psql.Identifier(key)
        if f.values.get(value):
            bind[name] = list(f.values[value])
            conds.append(psql.SQL("{} = ANY(%({})s)").format(col, psql.SQL(name)))
        else:
            bind[name] = value
            cast = psql.SQL("") if f.type == "str" else psql.SQL("::text")
            conds.append(psql.SQL("{}{} = %({})s").format(col, cast, psql.SQL(name)))
    if query.fid is not None:
        bind["fid"] = query.fid
        conds.append(psql.SQL("r.fid = %(fid)s"))
    return psql.SQL(" AND ").join(conds) if conds else psql.SQL("true")


# How the geometry leaves the database: WKB in the requested SRID (files), GeoJSON (OGC, 4326,
# 7 decimals ≈ 1 cm), or the geometry itself for further SQL (the map).
GEOM_OUT = {"wkb": psql.SQL("ST_AsBinary(ST_Transform(r.geom, %(srid)s::int))"),
            "geojson": psql.SQL("ST_AsGeoJSON(r.geom, 7)"),
            "geom": psql.SQL("r.geom")}


KEY_TYPES = {"text": psql.SQL("text"), "uuid": psql.SQL("uuid")}


def parse_key(layer: Layer, text: str) -> str:
    """A paging key (``after``) checked before any SQL: a UUID for UUID keys, else bounded text."""
    if layer.key_type == "uuid":
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise LayerError(f"after: {text[:80]!r} is not a feature id of {layer.name}") from None
    if len(text) > 200 or "\x00" in text:
        raise LayerError("after: not a feature id")
    return text


def select(layer: Layer, caller, query: Query, bind: dict, *, fields: tuple[Field, ...] | None = None,
           geom: str = "geom", order: bool = True, sql_name: str | None = None,
           after: str | None = None, times: str = "native", feature_tz: str | None = None) -> psql.Composed:
    """The layer's rows for ``caller``: ``fid, geom, <fields…>`` with masking, filters, stable order.

    ``geom`` is a key of ``GEOM_OUT``; ``wkb`` needs ``srid`` in ``bind``. The order is the layer's
    paging key (an index order); ``after`` (a key from ``parse_key``) starts after that feature.
    ``times="text"`` writes datetime fields as GeoPackage's UTC text (``iso``'s form) in PostGIS,
    which is many times faster than converting each value in Python. ``feature_tz``: one page
    (``page_limit`` in ``bind``) of ``(fid, GeoJSON Feature text)`` rows in key
    order instead, times in that zone (``export_features.sql``).
    """
    fields = fields if fields is not None else layer.export_fields
    cols, key, where = _parts(layer, caller, query, bind, fields, sql_name)
    if after is not None:
        bind["after_key"] = after
        where = psql.SQL("{} AND r._key > %(after_key)s::{}").format(where, KEY_TYPES[layer.key_type])
    if feature_tz is not None:
        bind["feature_tz"] = feature_tz
        props = psql.SQL(", ").join(psql.SQL("{}, {}").format(psql.Literal(f.key), _json_value(f)) for f in fields)
        return psql.SQL(sql("export_features")).format(
            props=props, inner=psql.SQL(sql(sql_name or layer.sql_name)), columns=cols, key=key, where=where)
    return psql.SQL(sql("export_select")).format(
        geom=GEOM_OUT[geom], inner=psql.SQL(sql(sql_name or layer.sql_name)), columns=cols, key=key,
        where=where, order=psql.SQL("ORDER BY r._key" if order else ""),
        keys=psql.SQL(", ").join(_out(f, times) for f in fields) if fields else psql.SQL("_none"))


def _parts(layer: Layer, caller, query: Query, bind: dict, fields: tuple[Field, ...],
           sql_name: str | None) -> tuple[psql.Composable, psql.Composable, psql.Composable]:
    """The columns (masked for ``caller``), the paging key and the conditions of ``select``."""
    allowed(layer, caller)
    cols = psql.SQL(", ").join([_column(f, caller) for f in fields]) if fields else psql.SQL("NULL AS _none")
    key = psql.SQL("r0.") + psql.Identifier("fid" if sql_name else layer.key)
    return cols, key, _where(layer, query, bind)


def key_at(layer: Layer, caller, query: Query, bind: dict) -> psql.Composed:
    """The paging key of the row at ``bind["seek"]`` in ``select``'s rows and order, or no
    row past the end: an offset turned into a key, reading no feature of the rows before it."""
    cols, key, where = _parts(layer, caller, query, bind, layer.export_fields, None)
    return psql.SQL(sql("export_key_at")).format(inner=psql.SQL(sql(layer.sql_name)), columns=cols, key=key,
                                                 where=where)


UTC_TEXT = psql.SQL("""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS {}""")


def _json_value(f: Field) -> psql.Composable:
    """A field's value in a feature's properties: times as ISO 8601 in the region's zone."""
    col = psql.SQL("p.") + psql.Identifier(f.key)
    return psql.SQL("iso_local({}, %(feature_tz)s)").format(col) if f.type == "datetime" else col


def _out(f: Field, times: str) -> psql.Composable:
    """One output column of ``select``: the field, or its UTC text for ``times="text"``."""
    if times == "text" and f.type == "datetime":
        return UTC_TEXT.format(psql.Identifier(f.key), psql.Identifier(f.key))
    return psql.Identifier(f.key)


# Parameter parsing is domain/values.py's (one rule for every surface); these adapters name the
# parameter and turn a refusal into a LayerError (400) for the layer callers.
DEFAULT_TZ = "Asia/Shanghai"  # only for callers without a region; pass the region's zone


def parse_time(text: str | None, name: str, tz: str = DEFAULT_TZ, end: bool = False) -> datetime | None:
    """An ISO date-time with a zone, or a plain date (a day in ``tz``); see ``domain.values``."""
    if text is None or text == "":
        return None
    try:
        return values.parse_time(text, tz, end=end)
    except ValueError as exc:
        raise LayerError(f"{name}: {exc}") from None


def parse_bbox(text) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees (text or four numbers); ``LayerError`` when not a box."""
    if text is None or text == "":
        return None
    try:
        return values.bbox(text)
    except ValueError as exc:
        raise LayerError(f"bbox {str(text)[:80]!r}: {exc}") from None


def split(text) -> tuple[str, ...] | None:
    """Comma-separated (or repeated) values as a tuple; None when nothing was given."""
    try:
        return values.comma_list(text)
    except ValueError as exc:
        raise LayerError(str(exc)) from None
