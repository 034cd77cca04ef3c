"""The OpenAPI 3.0 description of ``/ogc`` (served at ``/ogc/api``, linked as ``service-desc``).

GDAL's OAPIF driver and QGIS read it: GDAL ≥ 3.8 and QGIS take their page size from the ``limit``
parameter's ``maximum`` and ``default``, and GDAL asks ``resultType=hits`` for a feature count when
the items path lists that parameter. Both look the parameters up under the literal path
``/collections/<id>/items``, so every collection gets its own paths (as pygeoapi writes them),
each parameter written out in place (no ``$ref`` for a client to resolve).
"""
from __future__ import annotations

from typing import Any

MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
JSON_TYPES = {"str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
              "bool": {"type": "boolean"}, "datetime": {"type": "string", "format": "date-time"}}
ERRORS = {"400": "a bad parameter (InvalidParameterValue)", "401": "no or wrong credentials",
          "403": "outside your jurisdiction, or a layer your role does not see",
          "404": "no such collection or feature in your jurisdiction", "429": "too many failed logins"}


def _query(name: str, schema: dict, description: str, **extra: Any) -> dict:
    return {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
            "schema": schema, "description": description, **extra}


def _answers(ok: str, media: str, schema: dict) -> dict:
    out: dict[str, Any] = {"200": {"description": ok, "content": {media: {"schema": schema}}}}
    for status, text in ERRORS.items():
        out[status] = {"description": text,
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}}
    return out


def item_parameters(layer, default_limit: int, max_limit: int) -> list[dict]:
    """The query parameters of one collection's items: paging, hits, bbox, datetime, properties."""
    out = [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
               f"features per page (at most {max_limit}); follow the `next` link for the next page"),
        _query("after", {"type": "string"}, "keyset paging: the features after this feature id, in "
               "id order (the `next` links carry it; any depth costs the same)"),
        _query("offset", {"type": "integer", "minimum": 0, "default": 0},
               "skip this many features (kept for clients that count; prefer the `next` links)"),
        _query("resultType", {"type": "string", "enum": ["results", "hits"], "default": "results"},
               "`hits`: only numberMatched (the exact count), no features"),
        _query("bbox", {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
               "west,south,east,north in CRS84 degrees"),
    ]
    if {"since", "until"} <= layer.filters:
        out.append(_query("datetime", {"type": "string"},
                          f"an instant or start/end ('..' open) on {layer.time_key}; dates are local days"))
    for f in layer.export_fields:
        out.append(_query(f.key, JSON_TYPES[f.type], f"equal to this value ({f.zh} / {f.key})"))
    return out


def _feature_schema(layer) -> dict:
    props = {f.key: {**JSON_TYPES[f.type], "title": f.zh, "nullable": True} for f in layer.export_fields}
    return {"type": "object", "required": ["type", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
                           "geometry": {"type": "object", "nullable": True},
                           "properties": {"type": "object", "properties": props}}}


def _collection_paths(layer, default_limit: int, max_limit: int) -> dict:
    name = layer.name
    feature = _feature_schema(layer)
    page = {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": feature},
        "numberMatched": {"type": "integer", "minimum": 0,
                          "description": "present when cheap: on a first page matching at most 50,000 "
                                         "features, on the last page, and always with resultType=hits"},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}}
    tag = [name]
    return {
        f"/collections/{name}": {"get": {
            "summary": f"{layer.title} ({layer.title_en})", "operationId": f"describe_{name}", "tags": tag,
            "responses": _answers("the collection", "application/json", {"$ref": "#/components/schemas/collection"})}},
        f"/collections/{name}/items": {"get": {
            "summary": f"{layer.title_en}: features in your jurisdiction", "operationId": f"items_{name}",
            "tags": tag, "parameters": item_parameters(layer, default_limit, max_limit),
            "responses": _answers("a page of features", GEOJSON, page)}},
        f"/collections/{name}/items/{{featureId}}": {"get": {
            "summary": f"one {layer.title_en} feature", "operationId": f"item_{name}", "tags": tag,
            "parameters": [{"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "the feature's id"}],
            "responses": _answers("the feature", GEOJSON, feature)}},
    }


def document(base: str, layers, default_limit: int, max_limit: int) -> dict:
    """The whole OpenAPI 3.0 document for the API at ``base`` serving ``layers``."""
    plain = {"type": "object"}
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "landing page", "operationId": "landing",
                      "responses": _answers("links to the API's parts", "application/json", plain)}},
        "/api": {"get": {"summary": "this document", "operationId": "api",
                         "responses": _answers("the OpenAPI document", MEDIA_TYPE, plain)}},
        "/conformance": {"get": {"summary": "conformance classes", "operationId": "conformance",
                                 "responses": _answers("the classes", "application/json", plain)}},
        "/collections": {"get": {"summary": "the collections", "operationId": "collections",
                                 "responses": _answers("every layer as a collection", "application/json", plain)}},
    }
    for layer in layers:
        paths.update(_collection_paths(layer, default_limit, max_limit))
    return {
        "openapi": "3.0.3",
        "info": {"title": "OneMap 一图指挥 — OGC API Features", "version": "1.0.0",
                 "description": "Map layers of the county, limited to your jurisdiction; personal fields "
                                "masked unless your role may read them. Authenticate with a bearer token or "
                                "HTTP basic auth (the same for this document)."},
        "servers": [{"url": base}],
        "security": [{"bearer": []}, {"basic": []}],
        "tags": [{"name": layer.name, "description": layer.title} for layer in layers],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "basic": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "exception": {"type": "object", "required": ["code"], "properties": {
                    "code": {"type": "string"}, "description": {"type": "string"}}},
                "link": {"type": "object", "required": ["href"], "properties": {
                    "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}}},
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
            }},
    }
