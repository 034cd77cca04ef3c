"""Connections, named SQL files and versioned migrations."""
from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import psycopg2.extras

HERE = Path(__file__).resolve().parent
MIGRATION_LOCK = 0x0E3A9  # advisory lock key: one migrator at a time


class DatabaseError(RuntimeError):
    """A database problem stated for the user, with what to do next."""


def connect(dsn: str):
    """Open a psycopg2 connection; failures say how to fix the setup."""
    try:
        return psycopg2.connect(dsn, application_name="onemap")
    except psycopg2.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to {redact(dsn)}: {str(exc).strip()}\n"
            "Unset DATABASE_URL to use the local cluster, or check that the server is running."
        ) from exc


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)


APP_ROLE = "onemap_app"  # the running server's role (0012_app_role.sql): no DELETE/TRUNCATE of history


def app_dsn(owner_dsn: str, app_url: str | None = None) -> str:
    """The DSN the running server connects with, never the owner's: ``app_url``
    (``ONEMAP_APP_DATABASE_URL``, a login of its own) when set; on the project-local cluster the
    owner's DSN as the login role ``onemap_app``; otherwise the owner's login switched to that role
    at connect (weaker: a session could ``SET ROLE NONE``; a warning says how to give it a login)."""
    from psycopg2.extensions import make_dsn, parse_dsn

    parts = parse_dsn(owner_dsn)
    if app_url:
        theirs = parse_dsn(app_url).get("dbname")
        if theirs != parts.get("dbname"):  # e.g. a test database while the variable names production
            raise DatabaseError(
                f"ONEMAP_APP_DATABASE_URL names database {theirs!r} but the server's database is "
                f"{parts.get('dbname')!r}: point both URLs at the same database, or unset ONEMAP_APP_DATABASE_URL.")
        return app_url
    from db.cluster import is_local

    if is_local(owner_dsn):
        parts["user"] = APP_ROLE
        parts.pop("password", None)
        return make_dsn(**parts)
    import logging

    logging.getLogger("onemap.db").warning(
        "ONEMAP_APP_DATABASE_URL is not set: the server logs in as DATABASE_URL's user and switches to "
        "role %s at connect, which a session could undo. Give the server a login of its own "
        "(README, Database: least privilege).", APP_ROLE)
    parts["options"] = f"{parts.get('options', '')} -c role={APP_ROLE}".strip()
    return make_dsn(**parts)


@contextlib.contextmanager
def transaction(dsn: str) -> Iterator:
    """A connection in one transaction: committed on success, rolled back on any error."""
    conn = connect(dsn)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


@lru_cache(maxsize=None)
def sql(name: str) -> str:
    """The statement of ``db/sql/<name>.sql``, its whole-line ``--`` comments left out: a bound
    parameter named in a comment would be filled in there too, and a value with a line break would
    end the comment and run as SQL."""
    text = (HERE / "sql" / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")) + "\n"


def migrations() -> list[tuple[str, str]]:
    """(version, SQL) for every file in ``db/migrations``, in order."""
    files = sorted((HERE / "migrations").glob("*.sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def upgrade(conn) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their versions."""
    applied_now: list[str] = []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    conn.commit()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        for version, body in migrations():
            with conn, conn.cursor() as cur:
                cur.execute("SELECT 1 FROM schema_migration WHERE version = %s", (version,))
                if cur.fetchone():
                    continue
                try:
                    cur.execute(body)
                except psycopg2.errors.FeatureNotSupported as exc:
                    raise DatabaseError(f"migration {version}: {exc}") from exc
                except psycopg2.errors.UndefinedFile as exc:
                    raise DatabaseError(
                        f"migration {version} needs PostGIS and pgRouting on the server: {exc}"
                        "Install postgresql-15-postgis-3 and postgresql-15-pgrouting (`make deps`).") from exc
                cur.execute("INSERT INTO schema_migration (version) VALUES (%s)", (version,))
                applied_now.append(version)
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.commit()
    return applied_now


def applied(conn) -> list[str]:
    """Versions already applied (empty on a new database)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migration') IS NOT NULL")
        if not cur.fetchone()[0]:
            return []
        cur.execute("SELECT version FROM schema_migration ORDER BY version")
        return [r[0] for r in cur.fetchall()]


def dict_cursor(conn):
    """A cursor whose rows are dicts."""
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)


class BlockingPool:
    """A thread-safe pool that makes a thread wait for a free connection instead of failing
    (psycopg2's own pool raises when exhausted: a burst of requests would become 500s)."""

    def __init__(self, dsn: str, maxconn: int, wait_s: float = 30.0):
        import threading

        import psycopg2.pool

        self._pool = psycopg2.pool.ThreadedConnectionPool(0, maxconn, dsn, application_name="onemap-web")
        # psycopg2 keeps at most ``minconn`` idle and closes the rest on putconn, so under a burst
        # every request beyond them opened (and closed) a server connection of its own: a fork on
        # the server and ~5 ms each, measured as most of a report's cost at 50 phones. Keep every
        # connection once opened: at most ``maxconn`` per process (``ONEMAP_DB_POOL``), opened on
        # demand, closed when the database restarts (``discard_idle_connections``).
        self._pool.minconn = maxconn
        self._slots = threading.BoundedSemaphore(maxconn)
        self.wait_s = wait_s

    def getconn(self):
        """A connection, waiting up to ``wait_s`` for one to be free."""
        if not self._slots.acquire(timeout=self.wait_s):
            raise DatabaseError(f"all database connections stayed busy for {self.wait_s:g} s; try again")
        try:
            return self._pool.getconn()
        except Exception:
            self._slots.release()
            raise

    def closeall(self) -> None:
        """Close every connection of the pool (one built but not kept)."""
        self._pool.closeall()

    def putconn(self, conn) -> None:
        """Give a connection back (closed ones are replaced on the next getconn)."""
        try:
            self._pool.putconn(conn, close=conn.closed != 0)
        finally:
            self._slots.release()


_POOLS: dict[str, BlockingPool] = {}
_POOLS_LOCK = __import__("threading").Lock()


def discard_idle_connections(dsn: str) -> int:
    """Close the idle pooled connections for ``dsn`` (dead after a database restart); how many."""
    with _POOLS_LOCK:
        found = _POOLS.get(dsn)
    if found is None:
        return 0
    inner: Any = found._pool  # psycopg2's private _lock and _pool are not in its type stubs
    with inner._lock:  # psycopg2's ThreadedConnectionPool guards its lists with this lock
        idle, inner._pool[:] = list(inner._pool), []  # idle ones are in no other list
    for conn in idle:
        try:
            conn.close()
        except Exception:  # already broken: nothing more to release
            pass
    return len(idle)


def pool(dsn: str, maxconn: int | None = None) -> BlockingPool:
    """The process-wide pool for ``dsn`` (``Settings.db_pool`` connections unless ``maxconn``)."""
    from config import Settings

    found = _POOLS.get(dsn)
    if found is not None:
        return found
    # Built outside the lock: the lock is created at import, in gunicorn's master, so it is an OS
    # lock even in a gevent worker, and a greenlet that waited on the network while holding it
    # (opening a connection) froze its whole process once a second first request came (seen: a
    # burst of first requests to a new worker hung it for good). The lock guards the dict only.
    built = BlockingPool(dsn, maxconn or Settings().db_pool)
    with _POOLS_LOCK:
        found = _POOLS.setdefault(dsn, built)
    if found is not built:  # another first request won: ours is surplus
        built.closeall()
    return found


def _session(conn, readonly: bool, autocommit: bool) -> None:
    """Put ``conn`` in this mode. ``set_session`` costs a round trip (psycopg2 sends SETs), even
    unchanged in some modes, so it is called only when the mode differs (reading it is free)."""
    if conn.readonly is not readonly or conn.autocommit is not autocommit:
        conn.set_session(readonly=readonly, autocommit=autocommit)


@contextlib.contextmanager
def local_settings(conn) -> Iterator[None]:
    """A transaction for ``SET LOCAL`` on ``conn``: the caller's, or, on a connection in autocommit
    mode (a pooled reader), one of its own, rolled back afterwards: there ``SET LOCAL`` alone is
    ignored with a warning, and ``SET`` would outlive the request on a pooled connection."""
    if not conn.autocommit:
        yield
        return
    with conn.cursor() as cur:
        cur.execute("BEGIN")
    try:
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")


@contextlib.contextmanager
def pooled(dsn: str) -> Iterator:
    """A pooled connection for one read-only unit of work, returned to the pool afterwards."""
    p = pool(dsn)
    conn = p.getconn()
    try:
        _session(conn, readonly=True, autocommit=True)
        yield conn
    finally:
        p.putconn(conn)


@contextlib.contextmanager
def writer(dsn: str, autocommit: bool = False) -> Iterator:
    """A pooled connection for work that writes; the caller commits, anything left is rolled back.
    ``autocommit``: each statement is its own transaction (one round trip, no BEGIN/COMMIT)."""
    p = pool(dsn)
    conn = p.getconn()
    try:
        _session(conn, readonly=False, autocommit=autocommit)
        yield conn
    finally:
        if not conn.closed:
            conn.rollback()
        p.putconn(conn)
