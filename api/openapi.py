"""The OpenAPI 3.1 description of the JSON API, generated from the routes and their models.

Why spectree (and not flask-smorest or apiflask): it decorates plain Flask views in place and
reads pydantic v2 models as they are, so the blueprints, their gates and error handlers stay as
they were; flask-smorest wants marshmallow schemas (a second model language beside pydantic), and
apiflask replaces the Flask app and blueprint classes under Dash. We use spectree to *describe*:
query models are parsed by ``web.params.parse_query`` (our error bodies, our statuses), and
responses are not re-validated at run time (a new field must not become a 500).

Every route under ``/api/`` is decorated with ``documented``; ``tests/test_openapi.py`` walks
``app.url_map`` and fails for a route the document lacks. Served at ``/api/v1/openapi.json``.
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable, TypeVar

from pydantic import BaseModel
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from api.models import ACTIONS, Error

F = TypeVar("F", bound=Callable[..., Any])

spec = SpecTree(
    "flask", mode="strict", annotations=False, validation_error_model=Error,
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child,
    title="OneMap API", version="1",
    description="Grid workers, departments and analysts report, handle, follow and export incidents. "
                "Authenticate with `Authorization: Bearer <token>` (`onemap users token`) or a session.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"bearer": []},
)

ERRORS = {400: "malformed request (bad JSON, NUL bytes, too deep)", 401: "no or invalid token",
          403: "your role may not do this", 404: "not found in your jurisdiction",
          409: "not allowed in the incident's state (error.allowed lists what is)", 413: "body too large",
          422: "invalid fields or parameters (see error.fields)", 429: "rate limited",
          503: "busy, or the database is unreachable: retry after Retry-After seconds"}


def documented(*, query: type[BaseModel] | None = None, json: type[BaseModel] | None = None,
               ok: tuple[int, Any] = (200, None), errors: tuple[int, ...] = (401, 422),
               tags: tuple[str, ...] = (), **extra_ok: Any) -> Callable[[F], F]:
    """Describe a view in the OpenAPI: its query model, JSON body model, success answer
    ``(status, model)`` and error statuses (all answered with ``Error``)."""
    codes: dict[str, Any] = {f"HTTP_{ok[0]}": ok[1]}
    codes.update({f"HTTP_{k.removeprefix('HTTP_')}": v for k, v in extra_ok.items()})
    for status in errors:
        codes[f"HTTP_{status}"] = (Error, ERRORS.get(status, "error"))
    decorate = spec.validate(query=query, json=json, resp=Response(**codes), tags=tags, skip_validation=True)

    def mark(view: F) -> F:
        # Describe only: spectree's wrapper would rebuild every answer from its bytes (a streamed
        # file read into memory), so the route keeps the view itself and shares the wrapper's entry.
        wrapper = decorate(view)
        spec._function_metadata[view] = spec._function_metadata[wrapper]
        return view

    return mark


# Bodies that are not JSON (photos) and answers that are files, which spectree cannot model.
BINARY_BODIES = {("/api/v1/incidents/{incident_id}/photos", "post"): ("image/jpeg", "image/png")}
BINARY_ANSWERS = {("/api/v1/incidents/{incident_id}/photos/{photo_id}", "get"): ("image/jpeg", "image/png"),
                  ("/api/exports/{job_id}/file", "get"): ("application/octet-stream",)}


_GENERATING = threading.Lock()


def openapi_document() -> dict[str, Any]:
    """The whole document, generated from the current app's routes (inside a request or app context)."""
    with _GENERATING:
        # spectree lifts nested models ($defs) out of spec.models and deletes them there, so a
        # second document would lose them (dangling $refs): generate from a copy every time
        models = spec.models
        spec.models = copy.deepcopy(models)
        try:
            doc = copy.deepcopy(spec._generate_spec())  # not spec.spec: that caches the first app's routes
        finally:
            spec.models = models
    doc["servers"] = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for param in op.get("parameters", []):
                param["schema"] = _not_null(param["schema"])
                if param["in"] == "path" and not param.get("description"):
                    param["description"] = path_description(param["name"])
                if param["in"] == "path" and param["name"] == "action":
                    param["schema"] = {"type": "string", "enum": list(ACTIONS)}
            if (path, method) in BINARY_BODIES:
                op["requestBody"] = {"required": True, "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in BINARY_BODIES[path, method]}}
            if (path, method) in BINARY_ANSWERS:
                op["responses"]["200"]["content"] = {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in BINARY_ANSWERS[path, method]}
    return doc


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: ``anyOf [X, null]`` → ``X`` (default kept)."""
    options = schema.get("anyOf")
    if not options:
        return schema
    rest = [o for o in options if o.get("type") != "null"]
    if len(rest) != 1:
        return schema
    out = {**rest[0], **{k: v for k, v in schema.items() if k not in ("anyOf", "default") or
                         (k == "default" and v is not None)}}
    return out


def path_description(name: str) -> str:
    """What a path parameter is."""
    return {"incident_id": "the incident's UUID", "action": "an action of the closed loop",
            "photo_id": "the photo's number", "job_id": "the export job's id"}.get(name, "")
