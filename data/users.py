"""Accounts, roles and jurisdiction: password login with lockout, bearer tokens, the ``Actor``.

Every user has a role and a jurisdiction (one grid unit at any level) and sees only that unit's
subtree: grid codes are hierarchical prefixes, so "within the jurisdiction" is
``code.startswith(actor.unit_code)`` in Python and ``code LIKE unit_code || '%'`` in SQL.

Functions take a psycopg2 connection and never commit: the caller owns the transaction. Login
failures are recorded (``login_failure`` and the audit log), so a caller that wants throttling
to work must commit after ``BadCredentials`` too (``web.auth`` does).

Throttling (see ``login_throttle.sql``) counts failures per (account, address), per address and
per account; the per-account limit never applies to an address the owner signed in from with
the password in the last 30 days (``login_known``), so nobody can lock someone else out from
another machine. Browser sessions are
rows in ``user_session`` (``start_session``/``actor_for_session``/``end_session``): logout,
``disable_user`` and ``set_password`` end them at once.

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
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import psycopg2

from db.core import dict_cursor, sql

ROLES = ("admin", "dispatcher", "leader", "analyst", "department", "worker")
MAX_FAILURES = 5          # per (account, address) within WINDOW_MINUTES
ADDRESS_FAILURES = 20     # wrong passwords per address, any accounts, within WINDOW_MINUTES
TOKEN_ADDRESS_FAILURES = 100  # unknown tokens per address within WINDOW_MINUTES (unguessable: only bounds the writes)
ACCOUNT_FAILURES = 50     # per account from addresses it never signed in from, within WINDOW_MINUTES
WINDOW_MINUTES = 15
LOCK_MINUTES = 15
LOGIN_PATHS = ("form", "basic", "bearer", "api_key", "kiosk")
SESSION_IDLE = timedelta(hours=12)   # a session unused this long has ended
SESSION_MAX = timedelta(days=7)      # and every session ends this long after login
MIN_PASSWORD = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# scrypt at n=2**14, r=8, p=1 uses 16 MiB and ~50 ms: the interactive-login parameters of RFC 7914.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, HASH_BYTES = 2**14, 8, 1, 16, 32


class AuthError(Exception):
    """A login or token was refused (base class; the message is safe to show)."""


class BadCredentials(AuthError):
    """Unknown user, wrong password, or a dead token — deliberately indistinguishable."""


class AccountLocked(AuthError):
    """Too many failed logins: attempts are refused until ``until``.

    ``scope`` says what is throttled: ``pair`` (this account from this address), ``address``
    (any account from this address) or ``account`` (this account from unfamiliar addresses).
    """

    def __init__(self, until: datetime, scope: str = "pair"):
        super().__init__(f"too many failed logins ({scope}): refused until {until.isoformat()}")
        self.until = until
        self.scope = scope


class AccountDisabled(AuthError):
    """The account exists, the password was right, but an admin disabled it."""


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with a role and a jurisdiction (a grid unit code at any level)."""

    user_id: int | None  # None: no account (a command-line export, recorded as cli:<os user>)
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
        return bool(code and code.startswith(self.unit_code))

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


# HTTP basic clients (QGIS, GDAL, Open311 scripts) send the password with every request: one scrypt
# each (~50 ms of CPU) would make a page of features cost more than its query. A success is
# remembered per process, keyed by an HMAC (a per-process random key) of the stored hash and the
# password, for VERIFIED_TTL_S: the row is still read on every request, so a changed password (a
# new stored hash), a disabled account or a lock takes effect at once. Failures are never remembered.
VERIFIED_TTL_S = 600.0
VERIFIED_MAX = 4096
_verified: OrderedDict[bytes, float] = OrderedDict()
_verified_lock = threading.Lock()
_verified_key = secrets.token_bytes(32)


def check_password(password: str, encoded: str) -> bool:
    """``verify_password``, skipping the scrypt for a pair this process verified in the last minutes."""
    mark = hmac.new(_verified_key, encoded.encode() + b"\0" + password.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).digest()
    now = time.monotonic()
    with _verified_lock:
        seen = _verified.get(mark)
        if seen is not None and now - seen < VERIFIED_TTL_S:
            return True
    if not verify_password(password, encoded):
        return False
    with _verified_lock:
        _verified[mark] = now
        _verified.move_to_end(mark)
        while len(_verified) > VERIFIED_MAX:
            _verified.popitem(last=False)
    return True


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


def _checked_account(username: str, password: str, role: str) -> str:
    """The normalised username, once it, the role and the password's length are acceptable."""
    username = normalize_username(username)
    if not USERNAME_RE.match(username):
        raise UserError(f"username {username!r}: use 2–64 of a-z 0-9 . _ - (starting with a letter or digit)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    return username


def _roster_worker(conn, role: str, worker_code: str | None) -> dict | None:
    """The grid worker an account is for (the worker role needs one, no other role has one)."""
    worker = None
    if worker_code is not None:
        worker = _one(conn, "user_worker", {"code": worker_code})
        if worker is None:
            raise UserError(f"unknown grid worker {worker_code!r}")
    if role == "worker" and worker is None:
        raise UserError("a grid worker account needs --worker CODE (the worker's roster code)")
    if role != "worker" and worker is not None:
        raise UserError(f"--worker is for the worker role only, not {role!r}")
    return worker


def _check_department(conn, role: str, department_code: str | None, region_code: str) -> None:
    """Department staff name a department of their region; no other role names one."""
    if (role == "department") != (department_code is not None):
        raise UserError("department staff need --department CODE, and only they may have one")
    if department_code is not None:
        dept = _one(conn, "user_department", {"code": department_code})
        if dept is None or dept["region_code"] != region_code:
            raise UserError(f"unknown department {department_code!r} in region {region_code}")


def create_user(conn, username: str, password: str, role: str, unit_code: str | None = None, *,
                display_name: str = "", department_code: str | None = None,
                worker_code: str | None = None) -> int:
    """Create an account and return its id; ``UserError`` names what is wrong.

    A grid worker's jurisdiction defaults to the worker's own unit and must contain it.
    """
    username = _checked_account(username, password, role)
    worker = _roster_worker(conn, role, worker_code)
    if worker is not None:
        unit_code = unit_code or worker["unit_code"]
    if not unit_code:
        raise UserError("a jurisdiction is required: --unit CODE (a grid unit at any level)")
    unit = _one(conn, "user_unit", {"code": unit_code})
    if unit is None:
        raise UserError(f"unknown grid unit {unit_code!r}")
    if worker is not None and not worker["unit_code"].startswith(unit_code):
        raise UserError(f"worker {worker_code} works in {worker['unit_code']}, outside unit {unit_code}")
    _check_department(conn, role, department_code, unit["region_code"])
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


def _clean(text: str | None, limit: int = 64) -> str | None:
    """Typed text made safe to store and log: no NUL, no lone surrogate, bounded length."""
    if text is None:
        return None
    return text[:limit].replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def login_throttle(conn, username: str | None, address: str | None, now: datetime | None = None,
                   tokens: bool = False) -> None:
    """Raise ``AccountLocked`` when attempts for ``username`` (None: a token) from ``address`` are
    throttled; ``tokens`` counts the address's token failures instead of its password failures."""
    now = _now(now)
    row = _one(conn, "user_login_throttle", {
        "username": _clean(normalize_username(username)) if username else None, "address": address,
        "now": now, "window_s": WINDOW_MINUTES * 60, "lock_s": LOCK_MINUTES * 60, "tokens": tokens,
        "pair_limit": MAX_FAILURES, "account_limit": ACCOUNT_FAILURES,
        "address_limit": TOKEN_ADDRESS_FAILURES if tokens else ADDRESS_FAILURES})
    assert row is not None  # the query aggregates: always one row
    for scope in ("pair", "address", "account"):
        until = row[f"{scope}_until"]
        if until is not None and until > now:
            raise AccountLocked(until, scope)


def _default_region(conn) -> str:
    row = _one(conn, "user_default_region", {})
    return row["code"] if row else "000000"


def record_login_failure(conn, username: str | None, address: str | None, path: str, reason: str,
                         user_row: dict | None = None, now: datetime | None = None,
                         counts: bool = True) -> None:
    """Audit a failed login (any path) and, when ``counts``, add it to the throttling record."""
    from data.audit import audit  # same layer; imported here to keep the module's import light

    if path not in LOGIN_PATHS:
        raise ValueError(f"unknown login path {path!r}; one of {LOGIN_PATHS}")
    now = _now(now)
    name = _clean(normalize_username(username)) if username else None
    if counts:
        with conn.cursor() as cur:
            cur.execute(sql("user_login_failure_insert"), {
                "now": now, "address": address, "username": name,
                "user_id": user_row["id"] if user_row else None, "path": path})
    region = user_row["region_code"] if user_row else _default_region(conn)
    audit(conn, None, "login_failed", "app_user", user_row["id"] if user_row else None,
          {"username": name, "address": address, "path": path, "reason": reason},
          region_code=region, at=now)


def authenticate(conn, username: str, password: str, now: datetime | None = None, *,
                 address: str | None = None, path: str = "form") -> Actor:
    """The Actor for a correct password; else ``BadCredentials``/``AccountLocked``/``AccountDisabled``.

    ``MAX_FAILURES`` wrong passwords for one account from one ``address`` within
    ``WINDOW_MINUTES`` refuse that pair for ``LOCK_MINUTES`` (see the module docstring for the
    address and account limits); while refused even the right password is, and refusals are
    neither counted nor made to cost a password hash. Every failure is audited. Unknown
    usernames cost one scrypt like known ones and raise the same ``BadCredentials``. Disabled
    is only revealed to someone with the password.
    """
    now = _now(now)
    name = normalize_username(username)
    login_throttle(conn, name, address, now)
    row = None if "\x00" in name else _one(conn, "user_by_username", {"username": name})
    if row is None:
        verify_password(password, _dummy_hash())
        record_login_failure(conn, name, address, path, "unknown_user", None, now)
        login_throttle(conn, name, address, now)
        raise BadCredentials("wrong username or password")
    if not check_password(password, row["password_hash"]):
        record_login_failure(conn, name, address, path, "wrong_password", row, now)
        login_throttle(conn, name, address, now)
        raise BadCredentials("wrong username or password")
    if row["disabled"]:
        record_login_failure(conn, name, address, path, "disabled", row, now, counts=False)
        raise AccountDisabled("account disabled")
    with conn.cursor() as cur:
        cur.execute(sql("user_login_failure_clear"), {"username": name, "address": address, "now": now,
                                                      "user_id": row["id"]})
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


def disable_user(conn, username: str, now: datetime | None = None) -> int:
    """Disable an account, revoke its tokens and end its sessions; return the number of tokens
    revoked (``UserError`` if unknown)."""
    row = _one(conn, "user_disable", {"username": normalize_username(username), "now": _now(now)})
    if row is None:
        raise UserError(f"unknown user {username!r}")
    return row["tokens_revoked"]


def set_password(conn, username: str, password: str, now: datetime | None = None,
                 keep_session: str | None = None) -> int:
    """Give ``username`` a new password and end its browser sessions (but ``keep_session``);
    return how many ended. ``UserError`` for an unknown user or a too-short password."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    row = _one(conn, "user_password_set", {"username": normalize_username(username),
                                           "password_hash": hash_password(password)})
    if row is None:
        raise UserError(f"unknown user {username!r}")
    return end_sessions(conn, row["id"], "password", keep=keep_session, now=now)


# -- browser sessions -----------------------------------------------------------------------

def _session_digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


def start_session(conn, user_id: int, address: str | None = None, read_only: bool = False,
                  now: datetime | None = None) -> str:
    """A new session for ``user_id``; returns its random id (the cookie holds it; the table its hash)."""
    session_id = secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute(sql("user_session_insert"), {
            "id_sha256": _session_digest(session_id), "user_id": user_id, "read_only": read_only,
            "now": _now(now), "idle_s": int(SESSION_IDLE.total_seconds()),
            "max_s": int(SESSION_MAX.total_seconds()), "address": address})
        if cur.rowcount != 1:
            raise UserError(f"unknown user id {user_id}")
    return session_id


def actor_for_session(conn, session_id: str, now: datetime | None = None) -> Actor | None:
    """The Actor of a live session (not ended, idle or expired; account enabled), else None.

    Slides the idle timeout at most once a minute (the caller commits).
    """
    if not session_id or not isinstance(session_id, str):
        return None
    now = _now(now)
    digest = _session_digest(session_id)
    row = _one(conn, "user_session_actor", {"id_sha256": digest, "now": now})
    if row is None:
        return None
    if row["last_seen_at"] < now - timedelta(minutes=1):
        with conn.cursor() as cur:
            cur.execute(sql("user_session_touch"), {"id_sha256": digest, "now": now})
    return _actor(row, read_only=row["read_only"])


def end_session(conn, session_id: str, why: str = "logout", now: datetime | None = None) -> int | None:
    """End one session; return its user's id (None when it was not live)."""
    row = _one(conn, "user_session_end", {"id_sha256": _session_digest(session_id), "why": why,
                                          "now": _now(now)})
    return row["user_id"] if row else None


def end_sessions(conn, user_id: int, why: str, keep: str | None = None, now: datetime | None = None) -> int:
    """End every live session of ``user_id`` except ``keep``; return how many ended."""
    with conn.cursor() as cur:
        cur.execute(sql("user_session_end_all"), {
            "user_id": user_id, "why": why, "now": _now(now),
            "keep": psycopg2.Binary(_session_digest(keep)) if keep else None})
        return cur.rowcount


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


def actor_for_token(conn, token: str, now: datetime | None = None, *, address: str | None = None,
                    path: str = "bearer") -> Actor:
    """The Actor behind a live bearer token; ``BadCredentials`` when revoked, expired or disabled.

    A miss is audited and counted against ``address``; an address over its failure limit gets
    ``AccountLocked`` (scope ``address``) instead, without another record.
    """
    if not token or not isinstance(token, str):
        raise BadCredentials("missing token")
    now = _now(now)
    row = _one(conn, "user_token_actor", {"token_sha256": _token_digest(token), "now": now})
    if row is None:
        login_throttle(conn, None, address, now, tokens=True)
        record_login_failure(conn, None, address, path, "unknown_token", None, now)
        raise BadCredentials("invalid or expired token")
    return _actor(row, read_only=row["read_only"])  # the same statement recorded the token's use


def revoke_tokens(conn, username: str, name: str | None = None) -> int:
    """Revoke a user's tokens (only those called ``name`` when given); return how many."""
    with conn.cursor() as cur:
        cur.execute(sql("user_token_revoke"), {"username": normalize_username(username), "name": name})
        return cur.rowcount


def lock_window() -> timedelta:
    """How long an account stays locked after too many failures."""
    return timedelta(minutes=LOCK_MINUTES)
