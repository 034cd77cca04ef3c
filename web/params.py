"""Request parameters as pydantic models that parse, bound and document at once.

The value rules live in ``domain/values.py`` (times, boxes, bounded numbers, lists, clean text);
here they become pydantic types, so one model both checks a request (``parse_query``) and
describes it in the generated OpenAPI (``api/openapi.py``). Also the class-level defences that
hold for every route, whatever its parameters (``install``):

- the query string and the path may not carry NUL/control characters or undecodable bytes (400);
- JSON bodies are parsed by one provider that refuses more than ``JSON_MAX_DEPTH`` levels of
  nesting and strings with NUL or lone surrogates (400, never a RecursionError 500);
- the Dash callback dispatch answers junk input with 400 instead of a traceback (the error is
  still logged with its stack, so a real bug stays visible).
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime
from functools import lru_cache, wraps
from typing import Annotated, Any, Callable, NoReturn

from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)

from domain import values
from domain.clock import iso_local
from domain.values import TIME_EXAMPLE

log = logging.getLogger("onemap.params")
JSON_MAX_DEPTH = 32
DEFAULT_TZ = "Asia/Shanghai"  # only when a caller has no region (never for a signed-in actor)


class BadParameters(ValueError):
    """Parameters that do not parse; ``fields`` maps each parameter to what to send instead."""

    status, code = 422, "invalid"

    def __init__(self, fields: dict[str, str], message: str = "invalid query parameters"):
        super().__init__(message + ": " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.message, self.fields = message, fields


# --- pydantic types ---------------------------------------------------------------------------

def _time(value: Any, info: ValidationInfo) -> datetime:
    if isinstance(value, datetime):
        return values.check_time(value)
    context = info.context or {}
    return values.parse_time(value, context.get("tz", DEFAULT_TZ), end=info.field_name in context.get("ends", ()))


def _int(lo: int, hi: int) -> Callable[[Any], Any]:
    return lambda v: values.bounded_int(v, lo, hi) if isinstance(v, (str, int)) else v


def _text(max_length: int) -> Callable[[Any], Any]:
    return lambda v: values.clean_text(v, max_length) if isinstance(v, str) else v


def _bool(value: Any) -> Any:
    if isinstance(value, str):
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0", ""):
            return False
        raise ValueError("true or false")
    return value


def Int(lo: int, hi: int, description: str = "") -> Any:
    """An integer parameter from ``lo`` to ``hi`` (decimal digits only: ``1e23`` is refused)."""
    return Annotated[int, Field(ge=lo, le=hi, description=description), BeforeValidator(_int(lo, hi))]


def Text(max_length: int = values.TEXT_MAX, description: str = "") -> Any:
    """A string without NUL/control characters or lone surrogates, at most ``max_length`` long."""
    return Annotated[str, Field(max_length=max_length, description=description),
                     BeforeValidator(_text(max_length))]


Time = Annotated[datetime, BeforeValidator(_time), WithJsonSchema(
    {"type": "string", "format": "date-time",
     "description": f"ISO 8601 with a zone, or a plain date in the region's zone: {TIME_EXAMPLE}; "
                    f"years {values.YEAR_MIN}–{values.YEAR_MAX}, offsets within ±15:59"})]
Bbox = Annotated[tuple[float, float, float, float], BeforeValidator(values.bbox), WithJsonSchema(
    {"type": "string", "pattern": r"^[-+0-9.eE]+(,[-+0-9.eE]+){3}$",
     "description": "west,south,east,north in WGS84 degrees, e.g. 107.0,38.0,107.6,38.4"})]
CommaList = Annotated[tuple[str, ...], BeforeValidator(values.comma_list), WithJsonSchema(
    {"type": "string", "description": "comma-separated values"})]
Bool = Annotated[bool, BeforeValidator(_bool), WithJsonSchema({"type": "boolean"})]


class QueryModel(BaseModel):
    """Base of every query model: unknown parameters are ignored, values are not coerced silently."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"].removeprefix("Value error, ")
        out.setdefault(key, msg)
    return out


def parse_query(model: type[BaseModel], args: Any = None, tz: str | None = None, ends: tuple[str, ...] = ()) -> Any:
    """``model`` from the request's query string (first value of each key); ``BadParameters``
    naming each bad parameter. Plain dates are read in ``tz`` (the region's zone)."""
    args = request.args if args is None else args
    data = {k: args.get(k) for k in args} if hasattr(args, "keys") else dict(args)
    return parse(model, data, tz, ends)


def parse(model: type[BaseModel], data: Any, tz: str | None = None, ends: tuple[str, ...] = ()) -> Any:
    """``model`` from a dict (a query or a JSON body); ``BadParameters`` naming each bad field."""
    if not isinstance(data, dict):
        raise BadParameters({"body": "send a JSON object"}, "invalid body")
    try:
        return model.model_validate(data, context={"tz": tz or DEFAULT_TZ, "ends": ends})
    except ValidationError as exc:
        raise BadParameters(_errors(exc)) from None


@lru_cache(maxsize=64)
def _region_tz(dsn: str, region_code: str) -> str:
    from data.stats import region_timezone_of
    from db.core import pooled

    with pooled(dsn) as conn:
        return region_timezone_of(conn, region_code) or DEFAULT_TZ


def region_tz(dsn: str, region_code: str | None) -> str:
    """The IANA time zone of a region (from the database; cached), for reading plain dates."""
    return _region_tz(dsn, region_code) if region_code else DEFAULT_TZ


def public_url(path: str, query: dict[str, Any] | None = None) -> str:
    """An absolute URL of ``path`` (with ``query`` urlencoded, so ``+08:00`` survives) on the
    configured public base URL (``ONEMAP_PUBLIC_URL``); without one, on this request's host."""
    from urllib.parse import urlencode

    base = current_app.config.get("ONEMAP_PUBLIC_URL") or request.host_url
    url = base.rstrip("/") + "/" + path.lstrip("/")
    return url + ("?" + urlencode(query) if query else "")


# --- JSON bodies ------------------------------------------------------------------------------

def check_json(value: Any, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """``value`` (parsed JSON) if it nests at most ``max_depth`` levels and its strings (keys too)
    hold no NUL or lone surrogate; ``ValueError`` otherwise. Iterative: no recursion limit."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    _json_string(key)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            _json_string(item)
    return value


def _json_string(text: str) -> None:
    if "\x00" in text:
        raise ValueError("a JSON string contains a NUL character (\\u0000); remove it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a JSON string contains a lone surrogate (not valid Unicode)") from None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(raw: bytes | str) -> Any:
    """Parse a JSON body: ``ValueError`` for malformed, too deep, NaN/Infinity, NUL or surrogates."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {JSON_MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8: {exc.reason}") from None
    return check_json(value)


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with ``loads`` bounded (every ``request.get_json``, Dash's too), and
    instants written as ISO 8601 in the caller's region zone with its offset, as the SQL-built JSON
    writes them (Flask's default would write an HTTP date, "Sun, 29 Nov 2026 07:00:00 GMT")."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)

    @staticmethod
    def default(o: Any) -> Any:
        """A datetime as ``domain.clock.iso_local`` in the caller's zone; a date as YYYY-MM-DD."""
        if isinstance(o, datetime) and o.tzinfo is not None:
            return iso_local(o, _caller_tz())
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def _caller_tz() -> str:
    """The signed-in caller's region zone; UTC for an anonymous request."""
    from web.auth import current_actor

    actor = current_actor()
    return region_tz(current_app.config["ONEMAP_DSN"], actor.region_code) if actor else "UTC"


# --- the guard for every request ---------------------------------------------------------------

def _bad_request(message: str) -> Response:
    from web.errors import error_body

    response: Response = error_body(400, "bad_request", message)
    return response


def _guard() -> Response | None:
    """Refuse a path or query string with control characters or bytes that are not UTF-8."""
    raw_path = request.environ.get("PATH_INFO", "")
    try:
        path = raw_path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return _bad_request("the path is not valid UTF-8")
    query = request.query_string
    try:
        from urllib.parse import unquote_to_bytes

        decoded = unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return _bad_request("the query string is not valid UTF-8 (percent-encode UTF-8 bytes)")
    for where, text in (("path", path), ("query string", decoded)):
        try:
            values.clean_text(text, 10 ** 6)
        except ValueError as exc:
            return _bad_request(f"the {where} {exc}")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            try:
                values.storable_text(key + value)
            except ValueError as exc:
                return _bad_request(f"the form field {key[:40]!r} {exc}")
    return None


def _guard_dash(app: Flask) -> None:
    """Junk posted to Dash's callback dispatch answers 400 (logged with its stack), not 500."""
    endpoint = next((r.endpoint for r in app.url_map.iter_rules() if r.rule.endswith("_dash-update-component")),
                    None)
    if endpoint is None or getattr(app.view_functions[endpoint], "_onemap_guarded", False):
        return
    dispatch = app.view_functions[endpoint]

    @wraps(dispatch)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("output"), str) \
                or not isinstance(body.get("inputs", []), list) or not isinstance(body.get("state", []), list):
            return _bad_request("a Dash callback request needs a JSON object with output, inputs and state")
        try:
            return dispatch(*args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            log.warning("callback %s refused input: %s", body.get("output"), exc, exc_info=True)
            return _bad_request(f"the callback could not use its input ({type(exc).__name__}); "
                                "reload the page")

    guarded._onemap_guarded = True  # type: ignore[attr-defined]
    app.view_functions[endpoint] = guarded


def install(app: Flask) -> None:
    """Install the request guard (first of all before_request hooks), the bounded JSON provider
    and the Dash dispatch guard on ``app``."""
    hooks = app.before_request_funcs.setdefault(None, [])
    if _guard not in hooks:
        hooks.insert(0, _guard)
    app.json = SafeJSONProvider(app)
    if "ONEMAP_PUBLIC_URL" not in app.config:
        from config import Settings

        app.config["ONEMAP_PUBLIC_URL"] = Settings().public_url
    _guard_dash(app)

