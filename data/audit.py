"""The audit log: who did or saw what, when, in which region. Append-only in the database."""
from __future__ import annotations

import json
from datetime import datetime

from db.core import sql


def audit(conn, actor, action: str, object_type: str | None = None, object_id: str | int | None = None,
          detail: dict | None = None, count: int | None = None, *, region_code: str | None = None,
          at: datetime | None = None) -> int:
    """Append one audit record and return its id; ``actor`` None means the system (give ``region_code``).

    ``count`` is how many records were seen or changed (e.g. the rows of an export), so a
    reviewer can spot bulk access without storing the records themselves.
    """
    region = region_code or (actor.region_code if actor is not None else None)
    if region is None:
        raise ValueError("audit needs a region: pass an actor or region_code")
    with conn.cursor() as cur:
        cur.execute(sql("audit_insert"), {
            "region_code": region, "at": at,
            "user_id": actor.user_id if actor is not None else None,
            "username": actor.username if actor is not None else None,
            "action": action, "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str), "count": count})
        return cur.fetchone()[0]
