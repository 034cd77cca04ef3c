"""The export queue's worker pool in a server process: claim jobs while the limits allow, run
each in its own process (``exports.worker``), keep the queue clean.

One dispatcher thread per process and database. It claims queued jobs (the database decides,
with the per-user and global limits over every process and machine), starts a worker process
for each, and every ``housekeep_s`` fails running jobs whose worker stopped beating (a server
or worker that died: the job says so, with the time) and deletes files past their time to live.
Restart semantics: queued jobs stay queued and are run by the next dispatcher; a running job's
worker process outlives a server restart and finishes; if it dies too, the job is failed with a
reason within ``stale_s`` seconds. Nothing is resumed half-way (a file is all or nothing).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from db.outage import is_unavailable, tracker
from exports import jobs

log = logging.getLogger("onemap.exports")
ROOT = Path(__file__).resolve().parent.parent
_LOCK = threading.Lock()
_DISPATCHERS: dict[tuple[str, int], "Dispatcher"] = {}


class Dispatcher:
    """Claims and runs export jobs for one database from this process."""

    def __init__(self, dsn: str, base: Path | None = None, poll_s: float = 2.0, stale_s: float = 60.0,
                 housekeep_s: float = 30.0):
        self.dsn, self.base = dsn, base
        self.poll_s, self.stale_s, self.housekeep_s = poll_s, stale_s, housekeep_s
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self.children: dict[str, subprocess.Popen] = {}

    def start(self) -> "Dispatcher":
        """Start the dispatcher thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="export-dispatcher", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the queue now (a job was queued or finished)."""
        self._wake.set()

    def stop(self, wait_s: float = 10.0) -> None:
        """Stop claiming (running worker processes finish on their own)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def _loop(self) -> None:
        import time

        next_housekeep = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_housekeep:
                    reaped, expired = jobs.housekeep(self.dsn, self.stale_s, self.base)
                    for job_id in reaped:
                        log.warning("export %s failed: its worker stopped (server restart or crash)", job_id)
                    next_housekeep = time.monotonic() + self.housekeep_s
                while not self._stop.is_set() and (job := jobs.claim(self.dsn, self.worker)):
                    self._spawn(job)
                self._failing = False
            except Exception as exc:  # try again; one line per episode, never a line per poll
                if is_unavailable(exc):  # the database is away: the process's outage tracker says it once
                    tracker(self.dsn).report(exc, "export queue")
                elif not self._failing:
                    log.exception("export queue: claiming failed; retrying every %.0f s", self.poll_s)
                self._failing = True
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _spawn(self, job: dict) -> None:
        job_id = job["id"]
        task = json.dumps({"dsn": self.dsn, "job": job, "dir": str(self.base) if self.base else None},
                          ensure_ascii=False, default=str)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "exports.worker"], stdin=subprocess.PIPE, cwd=ROOT,
                                    start_new_session=True)  # a server restart (Ctrl-C) does not kill it
            assert proc.stdin is not None  # stdin=PIPE
            proc.stdin.write(task.encode())
            proc.stdin.close()
        except OSError as exc:
            jobs.update(self.dsn, job_id, "failed", error=f"could not start the export process: {exc}")
            return
        self.children[job_id] = proc
        threading.Thread(target=self._watch, args=(job_id, proc), name=f"export-watch-{job_id}",
                         daemon=True).start()

    def _watch(self, job_id: str, proc: subprocess.Popen) -> None:
        code = proc.wait()
        self.children.pop(job_id, None)
        if code != 0:  # killed or crashed before it could record why
            try:
                jobs.update(self.dsn, job_id, "failed",
                            error=f"the export process ended abnormally (status {code}); start it again")
            except Exception:  # noqa: BLE001 - the reaper will fail it later
                log.warning("export %s: process ended with %s and its row could not be updated", job_id, code)
        self.wake()  # a slot is free


def ensure(dsn: str, base: Path | None = None) -> Dispatcher:
    """This process's running dispatcher for ``dsn`` (started on first use, again after a fork)."""
    key = (dsn, os.getpid())
    with _LOCK:
        found = _DISPATCHERS.get(key)
        if found is None:
            found = _DISPATCHERS[key] = Dispatcher(dsn, base).start()
        return found
