"""Database outages as episodes: recognise one, say so once, answer 503 fast, notice the return.

While an episode lasts every request is answered 503 + ``Retry-After`` without touching the
database (no connection storm, no stall on connect timeouts), and one prober per process tries
to connect every ``PROBE_EVERY_S``; its first success ends the episode, closes the pools' idle
(dead) connections and logs one line. So a restart of PostgreSQL costs two log lines per
process, not a traceback per request, and service resumes within a probe interval.

Background loops of the server (the live listener, the escalation runner, roll-up folding,
the export queue) report their unreachable-database errors here too, so an outage is said once
per process whoever meets it first: ``if is_unavailable(exc): tracker(dsn).report(exc, "what")``.
"""
from __future__ import annotations

import logging
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from db.core import DatabaseError, discard_idle_connections, redact

log = logging.getLogger("onemap.outage")
RETRY_AFTER_S = 2  # what 503 responses tell clients; a probe runs far more often than this
PROBE_EVERY_S = 0.25
# SQLSTATE classes that mean "no database right now" (not a bad query, not a timeout):
# 08 connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now" (starting up)
UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached (as opposed to a failed statement)."""
    if isinstance(exc, DatabaseError):  # db.core: cannot connect / every pooled connection busy
        return True
    if isinstance(exc, psycopg2.InterfaceError):  # "connection already closed"
        return True
    if isinstance(exc, (psycopg2.errors.QueryCanceled, psycopg2.extensions.TransactionRollbackError)):
        return False  # a statement timeout, a deadlock, a serialization failure: the query's fault
    if isinstance(exc, psycopg2.OperationalError):
        code = getattr(exc, "pgcode", None)
        return code is None or code.startswith(UNAVAILABLE_STATES)
    return False


def is_overload(exc: BaseException) -> bool:
    """Whether ``exc`` is the pool's "every connection stayed busy": 503 too, but no outage."""
    return isinstance(exc, DatabaseError) and str(exc).startswith("all database connections")


class Outage:
    """The outage state of one process and database (one per DSN, see ``tracker``)."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.lock = threading.Lock()
        self.since: float | None = None  # monotonic start of the current episode
        self.refused = 0  # requests answered 503 in this episode
        self.episodes = 0

    @property
    def down(self) -> bool:
        """Whether an episode is in progress."""
        return self.since is not None

    def report(self, exc: BaseException, where: str = "") -> None:
        """Record that ``exc`` (an unavailable-database error) happened; logs only a new episode."""
        with self.lock:
            self.refused += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
            self.refused = 1
            self.episodes += 1
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("database %s unreachable (%s%s); answering 503 until it is back",
                    redact(self.dsn), first[:200], f", at {where}" if where else "")
        threading.Thread(target=self._probe, name="onemap-outage-probe", daemon=True).start()

    def _probe(self) -> None:
        while True:
            time.sleep(PROBE_EVERY_S)
            try:
                conn = psycopg2.connect(self.dsn, application_name="onemap-probe", connect_timeout=2)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                finally:
                    conn.close()
            except psycopg2.Error:
                continue
            closed = discard_idle_connections(self.dsn)
            with self.lock:
                took, refused = time.monotonic() - (self.since or time.monotonic()), self.refused
                self.since = None
            log.warning("database reachable again after %.1f s (%d request(s) answered 503, "
                        "%d stale connection(s) dropped)", took, refused, closed)
            return

    def note_refused(self) -> None:
        """Count one request refused while down (for the recovery line)."""
        with self.lock:
            self.refused += 1


_TRACKERS: dict[str, Outage] = {}
_TRACKERS_LOCK = threading.Lock()


def tracker(dsn: str) -> Outage:
    """The process-wide outage state for ``dsn``."""
    with _TRACKERS_LOCK:
        if dsn not in _TRACKERS:
            _TRACKERS[dsn] = Outage(dsn)
        return _TRACKERS[dsn]
