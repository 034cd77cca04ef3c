"""Field tokens: the bearer token a phone gets by signing in to the field app.

A field token is an ``api_token`` named ``field`` with an expiry. It ends when the phone signs
out (``revoke``), when the account is disabled (``data.users.disable_user`` revokes every token)
and when the password changes (a trigger of ``0016_visits.sql`` revokes the account's field tokens),
so a lost phone is cut off by the same commands that end browser sessions.
"""
from __future__ import annotations

import hashlib

from data.users import issue_token
from db.core import sql

NAME = "field"
DAYS = 30  # a phone stays signed in for a month at most, then signs in again


def issue(conn, username: str) -> str:
    """A new field token for ``username`` (shown once; the caller commits)."""
    return issue_token(conn, username, name=NAME, days=DAYS)


def revoke(conn, token: str) -> bool:
    """Revoke one field token; True when it was live (the caller commits)."""
    with conn.cursor() as cur:
        cur.execute(sql("field_token_revoke"), {"token_sha256": hashlib.sha256(token.encode()).digest()})
        return cur.rowcount == 1
