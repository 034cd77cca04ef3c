"""Accounts, roles and jurisdiction: password login with lockout, bearer tokens, the ``Actor``.

Every user has a role and a jurisdiction (one grid unit at any level) and sees only that unit's
subtree: grid codes are hierarchical prefixes, so "within the jurisdiction" is
``code.startswith(actor.unit_code)`` in Python and ``code LIKE unit_code || '%'`` in SQL.

Functions take a psycopg2 connection and never commit: the caller owns the transaction. Login
failures change the failure counter, so a caller that wants lockout to work must commit after
``BadCredentials`` too (``web.auth`` does).

Who may see personal data (``Actor.can_see_people``): admins, and grid workers inside their own
cell (they collect and visit those households). Leaders, dispatchers, analysts and department
staff get masked records and aggregates: the registries hold PIPL art. 28 sensitive data, and
command and analysis need counts, not names (the minimum-necessary principle). Every unmasked
view must still be written to the audit log (``data.audit.audit``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import psycopg2

from db.core import dict_cursor, sql

ROLES = ("admin", "dispatcher", "leader", "analyst", "department", "worker")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# scrypt at n=2**14, r=8, p=1 uses 16 MiB and ~50 ms: the interactive-login parameters of RFC 7914.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, HASH_BYTES = 2**14, 8, 1, 16, 32


class AuthError(Exception):
    """A login or token was refused (base class; the message is safe to show)."""


class BadCredentials(AuthError):
    """Unknown user, wrong password, or a dead token — deliberately indistinguishable."""


class AccountLocked(AuthError):
    """Too many failed logins: the account is locked until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(f"account locked until {until.isoformat()}")
        self.until = until


class AccountDisabled(AuthError):
    """The account exists, the password was right, but an admin disabled it."""


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with a role and a jurisdiction (a grid unit code at any level)."""

    user_id: int
    username: str
    role: str
    unit_code: str
    region_code: str
    department_code: str | None = None
    worker_id: int | None = None
    display_name: str = ""
    read_only: bool = False  # a kiosk token: may read, never change

    def covers(self, code: str | None) -> bool:
        """True when grid unit ``code`` lies in this actor's jurisdiction subtree."""
        return bool(code) and code.startswith(self.unit_code)

    @property
    def can_see_people(self) -> bool:
        """True when this role may see unmasked personal data (within its jurisdiction only)."""
        return self.role in ("admin", "worker")


# -- passwords ------------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """The password's scrypt hash as ``scrypt$n$r$p$salt$hash`` (base64url, no padding)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; constant-time, False on a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        want = _unb64(digest)
        # the stored parameters are used, so hashes made with older settings keep working
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they cost as much as known ones."""
    return hash_password(secrets.token_urlsafe(16))


# -- accounts -------------------------------------------------------------------------------

def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def _actor(row: dict, read_only: bool = False) -> Actor:
    return Actor(user_id=row["id"], username=row["username"], role=row["role"],
                 unit_code=row["unit_code"], region_code=row["region_code"],
                 department_code=row["department_code"], worker_id=row["worker_id"],
                 display_name=row["display_name"] or row["username"], read_only=read_only)


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return (username or "").strip().lower()


def _one(conn, name: str, params: dict) -> dict | None:
    with dict_cursor(conn) as cur:
        cur.execute(sql(name), params)
        return cur.fetchone()


def create_user(conn, username: str, password: str, role: str, unit_code: str | None = None, *,
                display_name: str = "", department_code: str | None = None,
                worker_code: str | None = None) -> int:
    """Create an account and return its id; ``UserError`` names what is wrong.

    A grid worker's jurisdiction defaults to the worker's own unit and must contain it.
    """
    username = normalize_username(username)
    if not USERNAME_RE.match(username):
        raise UserError(f"username {username!r}: use 2–64 of a-z 0-9 . _ - (starting with a letter or digit)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    worker = None
    if worker_code is not None:
        worker = _one(conn, "user_worker", {"code": worker_code})
        if worker is None:
            raise UserError(f"unknown grid worker {worker_code!r}")
        unit_code = unit_code or worker["unit_code"]
    if role == "worker" and worker is None:
        raise UserError("a grid worker account needs --worker CODE (the worker's roster code)")
    if role != "worker" and worker is not None:
        raise UserError(f"--worker is for the worker role only, not {role!r}")
    if not unit_code:
        raise UserError("a jurisdiction is required: --unit CODE (a grid unit at any level)")
    unit = _one(conn, "user_unit", {"code": unit_code})
    if unit is None:
        raise UserError(f"unknown grid unit {unit_code!r}")
    if worker is not None and not worker["unit_code"].startswith(unit_code):
        raise UserError(f"worker {worker_code} works in {worker['unit_code']}, outside unit {unit_code}")
    if (role == "department") != (department_code is not None):
        raise UserError("department staff need --department CODE, and only they may have one")
    if department_code is not None:
        dept = _one(conn, "user_department", {"code": department_code})
        if dept is None or dept["region_code"] != unit["region_code"]:
            raise UserError(f"unknown department {department_code!r} in region {unit['region_code']}")
    params = {"username": username, "display_name": display_name or username, "role": role,
              "unit_code": unit_code, "department_code": department_code,
              "worker_id": worker["id"] if worker else None, "password_hash": hash_password(password)}
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT create_user")
        try:
            cur.execute(sql("user_insert"), params)
        except psycopg2.errors.UniqueViolation as exc:
            cur.execute("ROLLBACK TO SAVEPOINT create_user")
            raise UserError(f"username {username!r} is taken") from exc
        user_id = cur.fetchone()[0]
        cur.execute("RELEASE SAVEPOINT create_user")
    return user_id


def authenticate(conn, username: str, password: str, now: datetime | None = None) -> Actor:
    """The Actor for a correct password; else ``BadCredentials``/``AccountLocked``/``AccountDisabled``.

    ``MAX_FAILURES`` wrong passwords in a row lock the account for ``LOCK_MINUTES``; while locked
    even the right password is refused. Unknown usernames cost one scrypt like known ones and
    raise the same ``BadCredentials``. Disabled is only revealed to someone with the password.
    """
    now = _now(now)
    row = _one(conn, "user_by_username", {"username": normalize_username(username)})
    if row is None:
        verify_password(password, _dummy_hash())
        raise BadCredentials("wrong username or password")
    if row["locked_until"] is not None and row["locked_until"] > now:
        raise AccountLocked(row["locked_until"])
    if not verify_password(password, row["password_hash"]):
        failed = _one(conn, "user_login_failed", {
            "user_id": row["id"], "now": now, "max_failures": MAX_FAILURES,
            "lock_seconds": LOCK_MINUTES * 60})
        if failed["locked_until"] is not None and failed["locked_until"] > now:
            raise AccountLocked(failed["locked_until"])
        raise BadCredentials("wrong username or password")
    if row["disabled"]:
        raise AccountDisabled("account disabled")
    with conn.cursor() as cur:
        cur.execute(sql("user_login_ok"), {"user_id": row["id"]})
    return _actor(row)


def actor_by_id(conn, user_id: int) -> tuple[Actor, str] | None:
    """(Actor, password hash) of an enabled account, or None; for re-checking browser sessions."""
    row = _one(conn, "user_by_id", {"user_id": user_id})
    if row is None or row["disabled"]:
        return None
    return _actor(row), row["password_hash"]


def list_users(conn, region_code: str | None = None) -> list[dict]:
    """All accounts (of one region when given), for the CLI."""
    with dict_cursor(conn) as cur:
        cur.execute(sql("user_list"), {"region_code": region_code})
        return cur.fetchall()


def disable_user(conn, username: str) -> int:
    """Disable an account and revoke its tokens; return the number revoked (``UserError`` if unknown)."""
    row = _one(conn, "user_disable", {"username": normalize_username(username)})
    if row is None:
        raise UserError(f"unknown user {username!r}")
    return row["tokens_revoked"]


# -- bearer tokens --------------------------------------------------------------------------

def _token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_token(conn, username: str, name: str = "", days: int | None = None,
                read_only: bool = False, now: datetime | None = None) -> str:
    """A new bearer token for ``username`` (shown once: only its SHA-256 is stored)."""
    row = _one(conn, "user_by_username", {"username": normalize_username(username)})
    if row is None:
        raise UserError(f"unknown user {username!r}")
    if row["disabled"]:
        raise UserError(f"user {username!r} is disabled")
    if days is not None and days <= 0:
        raise UserError("--days must be positive")
    token = secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute(sql("user_token_insert"), {
            "region_code": row["region_code"], "user_id": row["id"], "token_sha256": _token_digest(token), "name": name,
            "read_only": read_only, "now": _now(now), "days": days})
    return token


def actor_for_token(conn, token: str, now: datetime | None = None) -> Actor:
    """The Actor behind a live bearer token; ``BadCredentials`` when revoked, expired or disabled."""
    if not token:
        raise BadCredentials("missing token")
    now = _now(now)
    row = _one(conn, "user_token_actor", {"token_sha256": _token_digest(token), "now": now})
    if row is None:
        raise BadCredentials("invalid or expired token")
    with conn.cursor() as cur:
        cur.execute(sql("user_token_touch"), {"token_id": row["token_id"], "now": now})
    return _actor(row, read_only=row["read_only"])


def revoke_tokens(conn, username: str, name: str | None = None) -> int:
    """Revoke a user's tokens (only those called ``name`` when given); return how many."""
    with conn.cursor() as cur:
        cur.execute(sql("user_token_revoke"), {"username": normalize_username(username), "name": name})
        return cur.rowcount


def lock_window() -> timedelta:
    """How long an account stays locked after too many failures."""
    return timedelta(minutes=LOCK_MINUTES)
