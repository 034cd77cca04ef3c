"""Registry writes replayed from a phone's outbox: one write per client key (``Idempotency-Key``).

A write key names one write, not a record (the record's ``uid`` names the record, so an edit is a
new key with the record's uid). The first write with a key is stored with a fingerprint of its
validated body and the answer it got (``reg_write``, 0037); the same key again with the same body
from the same account gets that answer again and writes nothing; with another body, or from
another account, it is refused (409). The fingerprint keys the ID number and phone with the
region's secret (``reg_id_hash``), so the table holds nothing a clear number can be guessed from.
Functions take a connection and do not commit.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from psycopg2.extras import Json

from data.incidents import IncidentError, Invalid
from db.core import sql

KINDS = ("house", "household", "person")
SECRET_KEYS = ("id_number", "phone")


class KeyReused(IncidentError):
    """A write key already stored with another body (or by another account)."""

    status, code = 409, "id_reused"


def write_key(header: str | None) -> str | None:
    """The write's client UUID from the ``Idempotency-Key`` header; None when absent."""
    if header is None or not header.strip():
        return None
    try:
        value = uuid.UUID(header.strip())
    except ValueError:
        raise Invalid("the Idempotency-Key header must be a UUID made by the client",
                      {"Idempotency-Key": "a UUID"}) from None
    if value.int in (0, (1 << 128) - 1):
        raise Invalid("the Idempotency-Key header must be a random UUID", {"Idempotency-Key": "a UUID"})
    return str(value)


def fingerprint(cur, region_code: str, kind: str, item: dict) -> str:
    """SHA-256 of the validated body (ID number and phone as their keyed hashes)."""
    body: dict[str, Any] = {"kind": kind, **item}
    for key in SECRET_KEYS:
        if body.get(key):
            cur.execute(sql("reg_id_hash"), {"region_code": region_code, "value": str(body[key])})
            body[key] = cur.fetchone()[0]
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def save_once(conn, actor, key: str, kind: str, item: dict,
              save: Callable[[Any, Any, dict], tuple[dict, bool]]) -> tuple[dict, int, bool]:
    """(answer, status, replayed?) of the write ``key``: stored once, replayed after. No commit."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 37))", (key,))
        sha = fingerprint(cur, actor.region_code, kind, item)
        cur.execute(sql("reg_write_get"), {"key": key})
        row = cur.fetchone()
    if row is not None:
        region, user_id, stored_kind, stored_sha, status, answer = row
        if (region, user_id, stored_kind, stored_sha) != (actor.region_code, actor.user_id, kind, sha):
            raise KeyReused(f"write {key} was already made with another body; make a new key for a new write")
        return answer, status, True
    answer, created = save(conn, actor, item)
    status = 201 if created else 200
    with conn.cursor() as cur:
        cur.execute(sql("reg_write_insert"), {"key": key, "region_code": actor.region_code, "user_id": actor.user_id,
                                              "kind": kind, "record_id": answer["id"], "sha": sha, "status": status,
                                              "answer": Json(answer)})
    return answer, status, False
