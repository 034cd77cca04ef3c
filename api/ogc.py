"""OGC API – Features (Part 1: Core, GeoJSON) at ``/ogc`` for every layer of the registry.

Written by hand, after looking at both candidates (both are on PyPI here):
- pygeoapi serves providers from a static YAML config; a provider sees no user, so per-user
  jurisdiction (a different WHERE per caller), role-based masking and audit rows would mean a
  custom provider that re-implements our layers anyway, plus a second web app to authenticate.
- tipg publishes PostGIS tables/functions as they are, with no notion of the caller either, and
  it is a FastAPI app (we serve Flask under Dash). It caps at 10,000 items per tile (REFERENCE §5).
What we took: pygeoapi's shape (the API as small functions from a request to a response, one
module per OGC API) and tipg's habit of named SQL and one table from domain errors to statuses.
The layer registry already produces masked, jurisdiction-limited rows, so the API is only paging,
links and JSON here.

Authentication: a bearer token (``GDAL_HTTP_HEADERS="Authorization: Bearer …"``) or HTTP basic
auth (``GDAL_HTTP_AUTH=BASIC`` + ``GDAL_HTTP_USERPWD``), which QGIS and GDAL both send up front.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request

from api import ogc_openapi
from data.users import AccountLocked, AuthError
from db.core import pooled, writer
from domain import values
from domain.clock import iso_local
from layers import registry
from layers.base import LayerError, Query, parse_bbox, parse_key, parse_time
from web.auth import current_actor, password_actor
from web.params import BadParameters, public_url, region_tz

GEOJSON = "application/geo+json"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
RESERVED = {"f", "bbox", "bbox-crs", "datetime", "limit", "offset", "crs", "after", "resultType"}
CONFORMANCE = ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
               "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
               "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core"]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _json(body, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=mimetype)


def _error(status: int, code: str, message: str) -> Response:
    response = _json({"code": code, "description": message}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="onemap", charset="UTF-8"'
    return response


def _base() -> str:
    """The API's root URL: the configured public base URL, never a Host header (web.params)."""
    return public_url("/ogc")


def _basic_login(endpoint, values) -> None:
    """Before the login gate runs: turn HTTP basic credentials into this request's actor."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return
    g.onemap_actor = None
    try:
        username, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return
    with writer(current_app.config["ONEMAP_DSN"]) as conn:
        try:
            g.onemap_actor = password_actor(conn, username, password, "basic")
        except AccountLocked as exc:
            g.onemap_throttled = exc  # the login gate answers 429 before any view runs
        except AuthError:
            pass
        conn.commit()  # the failure's audit record and throttling count


def _actor_or_401():
    actor = current_actor()
    if actor is None:
        return None, _error(401, "unauthorized", "send 'Authorization: Bearer <token>' or HTTP basic auth")
    return actor, None


def layer_error(exc: LayerError):
    """A layer's refusal (unknown collection, bad filter) in OGC's error shape."""
    return _error(exc.status, type(exc).__name__, str(exc))


def bad_parameters(exc: BadParameters):
    """A bad query parameter as OGC's InvalidParameterValue."""
    return _error(400, "InvalidParameterValue", str(exc))


def landing():
    """The landing page: links to conformance and the collections."""
    actor, denied = _actor_or_401()
    if denied:
        return denied
    base = _base()
    return _json({"title": "OneMap 一图指挥 — OGC API Features",
                  "description": "Map layers of the county, limited to your jurisdiction",
                  "links": [{"href": base + "/", "rel": "self", "type": "application/json"},
                            {"href": base + "/api", "rel": "service-desc", "type": ogc_openapi.MEDIA_TYPE},
                            {"href": base + "/conformance", "rel": "conformance", "type": "application/json"},
                            {"href": base + "/collections", "rel": "data", "type": "application/json"}]})


def conformance():
    """The conformance classes this API implements."""
    actor, denied = _actor_or_401()
    return denied or _json({"conformsTo": CONFORMANCE})


def _collection(name: str, extent) -> dict:
    layer = registry.get(name)
    url = f"{_base()}/collections/{name}"
    out: dict[str, object] = {
        "id": name, "title": layer.title, "description": layer.title_en, "itemType": "feature",
        "crs": [CRS84], "links": [{"href": url, "rel": "self", "type": "application/json"},
                                  {"href": url + "/items", "rel": "items", "type": GEOJSON}]}
    if extent:
        (s, w), (n, e) = extent
        out["extent"] = {"spatial": {"bbox": [[w, s, e, n]], "crs": CRS84}}
    return out


def _extent_of(actor):
    return registry.extent(current_app.config["ONEMAP_DSN"], actor.region_code, actor.unit_code)


def collections():
    """Every layer as a collection, with the extent of the caller's jurisdiction."""
    actor, denied = _actor_or_401()
    if denied:
        return denied
    ext = _extent_of(actor)
    return _json({"collections": [_collection(n, ext) for n in registry.LAYERS],
                  "links": [{"href": _base() + "/collections", "rel": "self", "type": "application/json"}]})


def one_collection(name: str):
    """One layer as a collection."""
    actor, denied = _actor_or_401()
    return denied or _json(_collection(registry.get(name).name, _extent_of(actor)))


def _page_links(base: str, args: dict, limit: int, offset: int, after: str | None,
                next_key: str | None) -> list[dict]:
    """The self, next and prev links of one page of items (the other parameters kept). ``next``
    carries the last feature's key (keyset paging); ``prev`` only exists for offset pages."""
    keep = {k: v for k, v in args.items() if k not in ("offset", "limit", "after")}
    here = {**keep, "limit": limit, **({"after": after} if after is not None else {}),
            **({"offset": offset} if offset else {})}
    links = [{"href": base + "?" + urlencode(here), "rel": "self", "type": GEOJSON}]
    if next_key is not None:
        links.append({"href": base + "?" + urlencode({**keep, "limit": limit, "after": next_key}),
                      "rel": "next", "type": GEOJSON})
    if offset > 0 and after is None:
        links.append({"href": base + "?" + urlencode({**keep, "limit": limit, "offset": max(offset - limit, 0)}),
                      "rel": "prev", "type": GEOJSON})
    return links


def items(name: str):
    """One page of a layer's features in the caller's jurisdiction, filtered by bbox, time and
    properties, in key order after ``after``; ``resultType=hits`` answers the count alone."""
    actor, denied = _actor_or_401()
    if denied:
        return denied
    layer = registry.get(name)
    args = request.args
    limit = _int(args.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT, "limit")
    offset = _int(args.get("offset"), 0, 0, None, "offset")
    after = parse_key(layer, args["after"]) if args.get("after") else None
    result_type = args.get("resultType") or "results"
    if result_type not in ("results", "hits"):
        raise LayerError("resultType: 'results' or 'hits'")
    tz = region_tz(current_app.config["ONEMAP_DSN"], actor.region_code)
    query = Query(bbox=parse_bbox(args.get("bbox")), **_datetime(layer, args.get("datetime"), tz),
                  props=tuple((k, v) for k, v in args.items() if k not in RESERVED))
    rows: list[tuple]
    matched: int | None
    with pooled(current_app.config["ONEMAP_DSN"]) as conn:
        if result_type == "hits":
            rows, matched, more = [], registry.hits(conn, layer, actor, query), False
        else:
            rows, matched, more = registry.keyset_page(conn, layer, actor, query, limit, offset,
                                                       action="ogc_items", after=after, feature_tz=tz)
    features = [r[1] for r in rows]  # GeoJSON text from PostgreSQL (db/sql/export_features.sql)
    links = _page_links(f"{_base()}/collections/{name}/items", args.to_dict(), limit, offset, after,
                        rows[-1][0] if more else None)
    return _collection_response(features, matched, links)


def api_document():
    """The OpenAPI 3.0 description of this API, for GDAL and QGIS (same credentials as the rest)."""
    actor, denied = _actor_or_401()
    if denied:
        return denied
    doc = ogc_openapi.document(_base(), list(registry.LAYERS.values()), DEFAULT_LIMIT, MAX_LIMIT)
    return _json(doc, mimetype=ogc_openapi.MEDIA_TYPE)


def item(name: str, fid: str):
    """One feature, if it lies in the caller's jurisdiction."""
    actor, denied = _actor_or_401()
    if denied:
        return denied
    layer = registry.get(name)
    with pooled(current_app.config["ONEMAP_DSN"]) as conn:
        rows, _ = registry.page(conn, layer, actor, Query(fid=fid), 1, 0, action="ogc_item")
    if not rows:
        return _error(404, "not_found", f"no feature {fid!r} in {name} within your jurisdiction")
    body = _feature(layer, rows[0], region_tz(current_app.config["ONEMAP_DSN"], actor.region_code))
    url = f"{_base()}/collections/{name}/items/{fid}"
    body = body[:-1] + ', "links": ' + json.dumps([
        {"href": url, "rel": "self", "type": GEOJSON},
        {"href": f"{_base()}/collections/{name}", "rel": "collection", "type": "application/json"}]) + "}"
    return Response(body, mimetype=GEOJSON)


def create_blueprint() -> Blueprint:
    """The /ogc blueprint."""
    bp = Blueprint("ogc", __name__, url_prefix="/ogc")
    bp.url_value_preprocessor(_basic_login)
    bp.register_error_handler(LayerError, layer_error)
    bp.register_error_handler(BadParameters, bad_parameters)
    bp.add_url_rule("", view_func=landing, methods=["GET"])  # the order the decorators registered them
    bp.add_url_rule("/", view_func=landing, methods=["GET"])
    bp.add_url_rule("/conformance", view_func=conformance, methods=["GET"])
    bp.add_url_rule("/api", view_func=api_document, methods=["GET"])
    bp.add_url_rule("/collections", view_func=collections, methods=["GET"])
    bp.add_url_rule("/collections/<name>", view_func=one_collection, methods=["GET"])
    bp.add_url_rule("/collections/<name>/items", view_func=items, methods=["GET"])
    bp.add_url_rule("/collections/<name>/items/<fid>", view_func=item, methods=["GET"])
    return bp


MAX_OFFSET = 100_000_000  # beyond any layer's row count; a bigger offset is a 400, not a SQL error


def _int(text, default: int, lo: int, hi: int | None, name: str) -> int:
    if text is None or text == "":
        return default
    try:
        return values.bounded_int(text, lo, hi if hi is not None else MAX_OFFSET)
    except ValueError as exc:
        raise LayerError(f"{name}: {exc}") from None


def _datetime(layer, text: str | None, tz: str) -> dict:
    """OGC ``datetime`` (an instant, or ``start/end`` with ``..`` open) as since/until; plain dates
    are days in ``tz``, the region's zone."""
    if not text:
        return {}
    if not {"since", "until"} <= layer.filters:
        raise LayerError(f"collection {layer.name} has no time to filter on")
    start, sep, end = text.partition("/")
    since = None if start in ("", "..") else parse_time(start, "datetime", tz)
    until = None if end in ("", "..") else parse_time(end, "datetime", tz)
    if not sep:  # an instant: the half-open range [t, t + 1 µs)
        if since is None:
            raise LayerError("datetime: an instant, or start/end with '..' for an open end")
        until = since + timedelta(microseconds=1)
    return {"since": since, "until": until}


def _feature(layer, row, tz: str) -> str:
    """One GeoJSON feature; times in ``tz`` (the region's zone) with their offset, as /api/v1 writes them."""
    fid, geometry, *values = row
    props = {f.key: (iso_local(v, tz) if isinstance(v, datetime) else v)
             for f, v in zip(layer.export_fields, values, strict=True)}
    return ('{"type": "Feature", "id": ' + json.dumps(fid) + ', "geometry": ' + (geometry or "null")
            + ', "properties": ' + json.dumps(props, ensure_ascii=False, default=str) + "}")


def _collection_response(features: list[str], matched: int | None, links: list) -> Response:
    """The page as GeoJSON text; numberMatched only when it was cheap to know (it is optional)."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    count = "" if matched is None else ', "numberMatched": ' + str(matched)
    body = ('{"type": "FeatureCollection", "features": [' + ",".join(features) + "]" + count
            + ', "numberReturned": ' + str(len(features)) + ', "timeStamp": "' + stamp
            + '", "links": ' + json.dumps(links) + "}")
    return Response(body, mimetype=GEOJSON)

