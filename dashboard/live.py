"""Live push: database NOTIFY → one listener thread per process → Server-Sent Events per browser.

One LISTEN connection serves every open page of this process; each page's stream gets only the
events of its user's jurisdiction. The listener reconnects by itself after a database restart,
and the browser's EventSource reconnects after a server restart (``retry:``); on reconnecting the
page refreshes everything, so nothing is missed.
"""
from __future__ import annotations

import json
import logging
import queue
import select
import threading
import time

import psycopg2
from flask import Response, stream_with_context

from config import Settings

log = logging.getLogger("onemap.live")
CHANNEL = "onemap_events"
HEARTBEAT_S = 15.0


class Broker:
    """Fans notifications from one LISTEN connection out to subscriber queues."""

    def __init__(self, dsn: str, heartbeat_s: float | None = None):
        self.dsn = dsn
        # how often an idle stream writes a comment: it is also how soon a closed page is noticed
        self.heartbeat_s = heartbeat_s or Settings().sse_heartbeat_s
        self.subscribers: set[queue.Queue] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

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
                q.put_nowait({"resync": True})

    def _listen(self) -> None:
        backoff = 1.0
        while True:
            with self.lock:
                if not self.subscribers:
                    self.thread = None
                    return
            try:
                conn = psycopg2.connect(self.dsn, application_name="onemap-listen")
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute(f"LISTEN {CHANNEL}")  # constant channel name
                self.publish({"resync": True})  # anything may have happened while we were away
                backoff = 1.0
                while True:
                    if select.select([conn], [], [], 5.0)[0]:
                        conn.poll()
                        while conn.notifies:
                            note = conn.notifies.pop(0)
                            try:
                                self.publish(json.loads(note.payload))
                            except ValueError:
                                log.warning("ignoring a malformed notification: %r", note.payload[:200])
                    with self.lock:
                        if not self.subscribers:
                            conn.close()
                            break
            except psycopg2.Error:
                log.warning("live feed lost the database; reconnecting in %.0f s", backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)


def visible(event: dict, region_code: str, scope: str) -> bool:
    """Whether a notification concerns the jurisdiction ``scope`` (bulk and resync go to all)."""
    if "incident_id" not in event:
        return True
    return event.get("region_code") == region_code and str(event.get("cell_code", "")).startswith(scope)


def stream(broker: Broker, region_code: str, scope: str) -> Response:
    """An SSE response carrying the events of ``scope``, with heartbeats to keep proxies open."""

    def generate():
        q = broker.subscribe()
        try:
            yield "retry: 2000\n\n"
            yield f"data: {json.dumps({'hello': True})}\n\n"
            while True:
                try:
                    event = q.get(timeout=broker.heartbeat_s)
                except queue.Empty:
                    yield ": keep-alive\n\n"
                    continue
                if visible(event, region_code, scope):
                    yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            broker.unsubscribe(q)

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
