"""Reading Open311 GeoReport v2 inputs: W3C dates, comma lists, POST fields (form or JSON).

Every problem becomes an ``Open311Error`` naming the parameter, never an exception that would
surface as a 500. Pure functions: no Flask, no database.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

from data.incidents import IncidentError
from domain import values

WINDOW = timedelta(days=90)  # the spec's default range and the longest one allowed
MAX_IDS = 1000
MEDIA_URL_MAX = 2048
ADDRESS_MAX = 500
IDEMPOTENCY_MAX = 200
# Our own namespace for Open311 idempotency keys (uuid5 of "user id:key"): stable across servers.
KEY_NAMESPACE = uuid.UUID("6f1f3b0e-3f7c-5a53-9d53-0a3110c0a311")


class Open311Error(IncidentError):
    """A client error with the HTTP status to answer and one description per problem."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status, self.code, self.descriptions = status, f"open311_{status}", list(descriptions)


def w3c_time(raw: str, key: str, tz: str, end: bool = False) -> datetime:
    """A W3C-DTF time with a zone, or a date (a local calendar day: its start, or its end for
    ``end``); 400 otherwise, naming the parameter. The rule is ``domain.values.parse_time``'s."""
    try:
        return values.parse_time(raw, tz, end=end)
    except ValueError as exc:
        raise Open311Error(400, f"{key}: {exc}") from None


def date_window(start_raw: str | None, end_raw: str | None, now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The requested_datetime range: the last 90 days by default, never longer than 90 days."""
    start = w3c_time(start_raw, "start_date", tz) if start_raw else None
    end = w3c_time(end_raw, "end_date", tz, end=True) if end_raw else None
    if start is None:
        end = now if end is None else end
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > WINDOW:  # a date-only end runs to 23:59:59.999999, so 90 calendar days fit
        raise Open311Error(400, f"start_date to end_date spans {(end - start).days} days; at most 90 "
                                "are allowed (ask for several ranges)")
    return start, end


def comma_list(raw: str | None) -> list[str] | None:
    """``a,b,c`` as a list (blank items dropped), or None when absent or empty."""
    items = [v.strip() for v in (raw or "").split(",") if v.strip()]
    return items or None


def request_ids(raw: str | None) -> list[str] | None:
    """A comma list of service_request_ids (our UUIDs); 400 naming the malformed ones."""
    items = comma_list(raw)
    if items is None:
        return None
    if len(items) > MAX_IDS:
        raise Open311Error(400, f"service_request_id: at most {MAX_IDS} ids at once")
    bad = [v for v in items if not is_uuid(v)]
    if bad:
        raise Open311Error(400, f"service_request_id: not a request id: {', '.join(bad[:5])}")
    return [str(uuid.UUID(v)) for v in items]


def is_uuid(value: str) -> bool:
    """True when ``value`` parses as a UUID."""
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def statuses(raw: str | None) -> bool | None:
    """``status=open|closed|open,closed`` as the closed flag to filter on (None: both)."""
    items = comma_list(raw)
    if items is None:
        return None
    unknown = set(items) - {"open", "closed"}
    if unknown:
        raise Open311Error(400, f"status: {', '.join(sorted(unknown))} is not open or closed")
    return None if set(items) == {"open", "closed"} else items[0] == "closed"


def text(body: dict, key: str, errors: list[str], limit: int | None = None) -> str | None:
    """An optional string field (numbers from JSON bodies are taken as their text)."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append(f"{key}: must be a string")
        return None
    value = str(value)
    if limit is not None and len(value) > limit:
        errors.append(f"{key}: at most {limit} characters (got {len(value)})")
        return None
    return value


def coordinate(body: dict, key: str, lo: float, hi: float, errors: list[str]) -> float | None:
    """A required decimal-degree coordinate (form text or JSON number), finite and in range."""
    value = body.get(key)
    if value is None or value == "":
        errors.append(f"{key}: required (WGS84 decimal degrees); we do not geocode address_string "
                      "or address_id")
        return None
    try:
        return values.finite_float(value, lo, hi)
    except ValueError:
        errors.append(f"{key}: {str(value)[:40]!r} is not a number from {lo:g} to {hi:g}")
        return None


def media_url(body: dict, errors: list[str]) -> str | None:
    """An optional http(s) URL of a photo held elsewhere (we keep the link, not the picture)."""
    value = text(body, "media_url", errors, MEDIA_URL_MAX)
    if value is not None and not re.match(r"^https?://[^\s/]+\S*$", value):
        errors.append("media_url: must be an http:// or https:// URL without spaces")
        return None
    return value


def idempotency_key(body: dict, header: str | None, errors: list[str]) -> str | None:
    """The client's retry key: ``attribute[client_uuid]`` or the ``Idempotency-Key`` header."""
    attribute = body.get("attribute")
    attrs = attribute if isinstance(attribute, dict) else {}
    field = body.get("attribute[client_uuid]", attrs.get("client_uuid"))
    values = {str(v).strip() for v in (field, header) if v not in (None, "")}
    if len(values) > 1:
        errors.append("attribute[client_uuid] and the Idempotency-Key header differ; send one key")
        return None
    key = values.pop() if values else None
    if key is not None and (len(key) > IDEMPOTENCY_MAX or not key.isprintable()):
        errors.append(f"idempotency key: at most {IDEMPOTENCY_MAX} printable characters")
        return None
    return key


def request_id_for(user_id: int, key: str | None) -> uuid.UUID:
    """The incident id of a POST: derived from (caller, key) so retries meet the same row and two
    callers' keys never collide; a fresh random id when the client sent no key."""
    return uuid.uuid5(KEY_NAMESPACE, f"{user_id}:{key}") if key else uuid.uuid4()


def utc(t: datetime) -> datetime:
    """``t`` in UTC (fingerprints compare the ISO text, so the zone must not vary)."""
    return t.astimezone(timezone.utc)
