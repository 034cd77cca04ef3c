"""Live push: database NOTIFY → one listener per process → Server-Sent Events per browser.

One LISTEN connection serves every open page of this process (a greenlet under ``onemap
serve``'s gevent workers, a thread elsewhere); each page's stream gets only the events of its
user's jurisdiction. Every event carries its ``incident_event`` id as the SSE ``id:``, so a page
that reconnects (the browser sends ``Last-Event-ID``, or ``?last_event_id=`` after a refused
attempt) gets what it missed replayed from the table, up to ``REPLAY_MAX`` events; beyond that it
is told to resync. When the listener loses the database it retries every ``RECONNECT_S`` and, once
back, replays to every open page what was committed meanwhile, so pages resume within about a
second of the database returning and without a reconnect of their own.

Open streams are limited per session and per client address over all worker processes
(``web/slots.py``); beyond a limit the answer is 429 with ``Retry-After``.
"""
from __future__ import annotations

import collections
import hashlib
import json
import logging
import queue
import select
import threading
import time
from typing import Callable

import psycopg2
from flask import Response, request, session, stream_with_context

from config import Settings
from db.core import pooled, sql
from db.outage import is_unavailable, tracker
from domain import policy
from web import slots
from web.errors import error_body

log = logging.getLogger("onemap.live")
CHANNEL = "onemap_events"
RETRY_MS = 1000  # the browser reconnects this soon after a dropped stream
RECONNECT_S = 0.5  # the listener retries the database this often while it is away
IDLE_CHECK_S = 5.0  # an idle listener checks its connection this often
REPLAY_MAX = 200  # more missed events than this for one page: it resyncs instead
CATCH_UP_MAX = 5000  # the listener's own catch-up after an outage (over all pages)
VALID_CHECK_S = 1.0  # how often an open stream asks whether its session is still live (web.auth.stream_guard)
SESSION_CHECK_S = 5.0  # how often the database is asked, per credential and process (not per page)
LOOKBACK = 1000  # ids below the newest seen that the catch-up re-checks (late commits)


class Broker:
    """Fans notifications from one LISTEN connection out to subscriber queues."""

    def __init__(self, dsn: str, heartbeat_s: float | None = None):
        self.dsn = dsn
        # how often an idle stream writes a comment: it is also how soon a closed page is noticed
        self.heartbeat_s = heartbeat_s or Settings().sse_heartbeat_s
        self.subscribers: set[queue.Queue] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.newest: int | None = None  # newest event id pushed (None: not listening yet)
        self.floor = 0  # the newest id when listening first started: nothing older is caught up
        self.seen: collections.deque[int] = collections.deque(maxlen=4 * LOOKBACK)
        self.connected = threading.Event()
        self.verdicts: dict[str, tuple[float, bool, bool]] = {}  # key: (checked at, alive, checking)
        self.checking = threading.Semaphore(1)

    def credential_alive(self, key: str, check: Callable[[], bool]) -> bool:
        """Whether the credential ``key`` is still live: ``check()`` is run by one stream per
        ``SESSION_CHECK_S`` and the verdict shared by every page on that credential, so 300 pages
        of one kiosk cost one query per interval, not 300."""
        now = time.monotonic()
        with self.lock:
            seen = self.verdicts.get(key)
            if seen and (now - seen[0] < SESSION_CHECK_S or seen[2]):
                return seen[1]
        if not self.checking.acquire(blocking=False):  # one check at a time per process: many
            return seen[1] if seen else True  # credentials never crowd the pool (asked next time)
        try:
            with self.lock:
                if len(self.verdicts) > 10_000:  # old credentials: forget them, they are asked again
                    self.verdicts.clear()
                self.verdicts[key] = (seen[0] if seen else now, seen[1] if seen else True, True)
            alive = True
            try:
                alive = check()
            finally:
                with self.lock:
                    self.verdicts[key] = (time.monotonic(), alive, False)
            return alive
        finally:
            self.checking.release()

    def subscribe(self) -> queue.Queue:
        """A new queue that receives every notification (as a dict) until unsubscribed."""
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self.lock:
            self.subscribers.add(q)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._listen, name="onemap-listen", daemon=True)
                self.thread.start()
        return q

    def open_streams(self) -> int:
        """How many pages are subscribed right now (a server drains these before it stops)."""
        with self.lock:
            return len(self.subscribers)

    def unsubscribe(self, q: queue.Queue) -> None:
        """Stop delivering to ``q``."""
        with self.lock:
            self.subscribers.discard(q)

    def publish(self, event: dict) -> None:
        """Deliver ``event`` to every subscriber; a page too slow to keep up is told to resync."""
        with self.lock:
            targets = list(self.subscribers)
        for q in targets:
            try:
                q.put_nowait(event)
            except queue.Full:
                with q.mutex:
                    q.queue.clear()
                q.put_nowait({"resync": True, "id": self.newest})

    def _push(self, event: dict) -> None:
        """Publish an event from the table or a notification once, remembering its id."""
        eid = event.get("id")
        if isinstance(eid, int):
            if eid in self.seen:
                return
            self.seen.append(eid)
            self.newest = max(self.newest or 0, eid)
        self.publish(event)

    def _catch_up(self, conn) -> None:
        """After (re)connecting: push what was committed while not listening (bounded)."""
        with conn.cursor() as cur:
            cur.execute(sql("live_events_last"))
            last = cur.fetchone()[0]
            if self.newest is None:  # first start: pages fetch the present themselves
                self.newest = self.floor = last
                return
            cur.execute(sql("live_events_after"),
                        {"after": max(self.floor, self.newest - LOOKBACK), "limit": CATCH_UP_MAX + 1})
            rows = cur.fetchall()
        if len(rows) > CATCH_UP_MAX:
            self.newest = last
            self.publish({"resync": True, "id": last})
            return
        for _, payload in rows:
            self._push(json.loads(payload))

    def _on_notify(self, conn, payload: str) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed notification: %r", payload[:200])
            return
        if "bulk" in event:  # a bulk load: one summary, pages refresh rather than replay
            with conn.cursor() as cur:
                cur.execute(sql("live_events_last"))
                self.newest = cur.fetchone()[0]
            self.publish({"resync": True, "bulk": event["bulk"], "id": self.newest})
            return
        self._push(event)

    def _listen(self) -> None:
        lost = 0  # failures in a row: the first is retried at once (a dropped connection),
        while True:  # a second means the database is away (an outage, logged once per episode)
            with self.lock:
                if not self.subscribers:
                    self.thread = None
                    return
            conn = None
            try:
                conn = psycopg2.connect(self.dsn, application_name="onemap-listen", connect_timeout=3)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f"LISTEN {CHANNEL}")  # constant channel name
                self._catch_up(conn)
                self.connected.set()
                lost = 0
                self._serve(conn)
                return  # no subscribers left
            except psycopg2.Error as exc:
                self.connected.clear()
                lost += 1
                if lost == 1:
                    log.debug("live feed lost its connection (%s); reconnecting", str(exc).strip()[:200])
                    continue
                if is_unavailable(exc):
                    tracker(self.dsn).report(exc, "live feed")
                else:
                    log.warning("live feed failed: %s; retrying in %.1f s", str(exc).strip()[:200], RECONNECT_S)
                time.sleep(RECONNECT_S)
            finally:
                if conn is not None:
                    conn.close()

    def _serve(self, conn) -> None:
        """Deliver notifications until no page is subscribed; raises when the database goes."""
        idle_since = time.monotonic()
        while True:
            if select.select([conn], [], [], 1.0)[0]:
                conn.poll()
                while conn.notifies:
                    self._on_notify(conn, conn.notifies.pop(0).payload)
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_CHECK_S:
                with conn.cursor() as cur:  # a dead connection is noticed here, not never
                    cur.execute("SELECT 1")
                idle_since = time.monotonic()
            with self.lock:
                if not self.subscribers:
                    self.thread = None
                    return


def visible(event: dict, region_code: str, scope: str) -> bool:
    """Whether a notification concerns the jurisdiction ``scope`` (bulk and resync go to all)."""
    if "incident_id" not in event:
        return True
    return event.get("region_code") == region_code and str(event.get("cell_code", "")).startswith(scope)


def shown(event: dict, region_code: str, scope: str, caller=None) -> dict | None:
    """The event as this page may receive it, or None: for a known caller the one row rule of
    ``domain.policy.event_visible`` (department staff get a bare resync for an event that does not
    say its department), else the jurisdiction ``scope``."""
    if caller is not None:
        return policy.event_visible(caller, event)
    return event if visible(event, region_code, scope) else None


def sse(event: dict) -> str:
    """One SSE message: ``id:`` (the event id, when it has one) and ``data:`` (JSON)."""
    eid = event.get("id")
    head = f"id: {eid}\n" if isinstance(eid, int) else ""
    return f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n"


def last_event_id() -> int | None:
    """The id the page saw last (``Last-Event-ID`` header or ``last_event_id``); None if fresh.
    Raises ValueError for anything but a decimal id."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def stream_key() -> str:
    """What 'one session' is for the stream limit: the session's CSRF secret, or the token."""
    auth = request.headers.get("Authorization", "")
    if auth:
        return "t:" + hashlib.sha256(auth.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return "s:" + str(session.get("csrf") or session.get("uid") or request.remote_addr)


def replay(dsn: str, after: int, region_code: str, scope: str, caller=None) -> tuple[list[dict], bool]:
    """The visible events after ``after`` (oldest first) and whether there were too many (or some
    could only be told as a resync)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("live_events_after"), {"after": after, "limit": REPLAY_MAX * 5 + 1})
        rows = cur.fetchall()
    seen = [s for s in (shown(json.loads(p), region_code, scope, caller) for _, p in rows) if s is not None]
    events = [e for e in seen if "id" in e]
    return events, len(events) < len(seen) or len(rows) > REPLAY_MAX * 5 or len(events) > REPLAY_MAX


def _newest(dsn: str) -> int:
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("live_events_last"))
        return cur.fetchone()[0]


def _too_many(refused: str, settings: Settings) -> Response:
    limit = settings.streams_per_session if refused == "session" else settings.streams_per_address
    response = error_body(429, "too_many_streams", f"at most {limit} live pages per {refused}; close one and reload")
    response.headers["Retry-After"] = "10"
    return response


def _follow(broker: Broker, q: queue.Queue, key: str, replayed: set, region_code: str, scope: str,
            still_valid: Callable[[], bool] | None, caller=None):
    """The pushed events of ``scope`` as SSE text, heartbeats between, until the credential ends."""
    beat = time.monotonic()
    while True:
        try:  # wake at least every VALID_CHECK_S so an ended session stops its stream soon
            event = q.get(timeout=min(broker.heartbeat_s, VALID_CHECK_S))
        except queue.Empty:
            event = None
        if still_valid is not None and not broker.credential_alive(key, still_valid):
            yield sse({"ended": True})
            return
        if event is None:
            if time.monotonic() - beat >= broker.heartbeat_s:
                beat = time.monotonic()
                yield ": keep-alive\n\n"
        elif event.get("id") not in replayed and (out := shown(event, region_code, scope, caller)) is not None:
            yield sse(out)


def stream(broker: Broker, region_code: str, scope: str,
           still_valid: Callable[[], bool] | None = None, caller=None) -> Response:
    """An SSE response carrying the events of ``scope`` (after the page's last one, if it says),
    with heartbeats; 429 beyond the open-stream limits. ``still_valid`` is asked about once a
    second (its verdict shared per credential): a session that ended closes its streams."""
    try:
        after = last_event_id()
    except ValueError:
        return error_body(400, "bad_last_event_id", "Last-Event-ID must be an event id (digits)")
    settings = Settings()
    key, address, counters = stream_key(), request.remote_addr or "-", slots.current()
    refused = counters.acquire(key, address, settings.streams_per_session, settings.streams_per_address)
    if refused:
        return _too_many(refused, settings)
    q = broker.subscribe()  # before reading the table: nothing falls between replay and push
    try:
        if after is None:
            events: list[dict] = []
            resync, start = False, _newest(broker.dsn)
        else:
            events, resync = replay(broker.dsn, after, region_code, scope, caller)
            start = _newest(broker.dsn) if resync else after
    except BaseException:
        broker.unsubscribe(q)
        counters.release(key, address)
        raise  # a database error becomes a 503 (web/errors.py)
    if after is None or resync:
        first = [sse({"resync" if resync else "hello": True, "id": start})]
        events = []
    else:
        first = [sse(event) for event in events]

    def generate():
        try:
            yield f"retry: {RETRY_MS}\n\n"
            yield from first
            yield from _follow(broker, q, key, {e["id"] for e in events}, region_code, scope, still_valid, caller)
        finally:
            broker.unsubscribe(q)
            counters.release(key, address)

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
