"""Background export jobs as rows of ``export_job``: a queue the database holds.

A job is ``queued`` when asked for, ``running`` once a worker claims it (``exports.queue``),
then ``done`` (its file kept until ``expires_at``, then ``expired``) or ``failed`` with a reason.
The limits (per user, global, waiting per user) and the time to live come from ``config.Settings``.
Files live in ``<export_dir>/<job id>/``: folders 0700, files 0600.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path

from db.core import connect, dict_cursor, sql
from layers.base import LayerError

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "var" / "exports"


class QueueFull(LayerError):
    """The user already has as many exports waiting or running as one may."""

    status = 429


class ReadOnlyActor(LayerError, PermissionError):
    """A read-only session or token (a kiosk) starts no export."""

    status = 403


def settings():
    """The export settings (limits, time to live, folder), read now."""
    from config import Settings

    return Settings()


def directory() -> Path:
    """The folder export files live in, created 0700 (and made 0700 if it was not)."""
    path = DEFAULT_DIR.parent.parent / (settings().export_dir or DEFAULT_DIR)  # relative: to the checkout
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def job_folder(job_id: str, base: Path | None = None) -> Path:
    """The private folder (0700) of one job's file."""
    root = Path(base) if base else directory()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / str(uuid.UUID(job_id))
    folder.mkdir(mode=0o700, exist_ok=True)
    for path in (root, folder):
        os.chmod(path, 0o700)
    return folder


def create(dsn: str, actor, layers, fmt: str, crs: str, filters: dict, total: int) -> str:
    """Queue a job for ``actor``; returns its id. ``ReadOnlyActor`` for a read-only caller,
    ``QueueFull`` (429) when the actor already has the most waiting or running jobs."""
    if getattr(actor, "read_only", False):
        raise ReadOnlyActor("a read-only session (a kiosk) cannot start exports; log in with your own account")
    limit = settings().export_queue_per_user
    job_id = str(uuid.uuid4())
    snapshot = None if actor.user_id is not None else json.dumps(asdict(actor), ensure_ascii=False)
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql("export_job_insert"), {
                "id": job_id, "region_code": actor.region_code, "user_id": actor.user_id,
                "username": actor.username, "actor": snapshot, "layers": list(layers), "format": fmt, "crs": crs,
                "filters": json.dumps(filters, ensure_ascii=False, default=str), "total": total,
                "max_waiting": limit})
            if cur.fetchone() is None:
                raise QueueFull(f"you already have {limit} exports waiting or running; wait for one to finish "
                                "(see 'my exports'), then start this one again")
    finally:
        conn.close()
    return job_id


def update(dsn: str, job_id: str, state: str, done: int | None = None, file_name: str | None = None,
           error: str | None = None) -> bool:
    """Record progress (also the heartbeat), the finished file or the failure of a running job;
    False when the job is no longer running (the reaper failed it)."""
    ttl_s = settings().export_ttl_hours * 3600
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql("export_job_update"), {"id": job_id, "state": state, "done": done,
                                                   "file_name": file_name, "error": error, "ttl_s": ttl_s})
            return cur.fetchone() is not None
    finally:
        conn.close()


def get(dsn: str, actor, job_id: str) -> dict | None:
    """The job ``job_id`` if ``actor`` started it, else None (with ``position`` while queued)."""
    try:
        uuid.UUID(job_id)
    except (ValueError, TypeError, AttributeError):
        return None
    conn = connect(dsn)
    try:
        with dict_cursor(conn) as cur:
            cur.execute(sql("export_job_get"), {"id": job_id, "username": actor.username,
                                                "region_code": actor.region_code})
            return cur.fetchone()
    finally:
        conn.close()


def recent(dsn: str, actor, limit: int = 10) -> list[dict]:
    """``actor``'s latest jobs, newest first (with ``position`` while queued)."""
    conn = connect(dsn)
    try:
        with dict_cursor(conn) as cur:
            cur.execute(sql("export_job_list"), {"username": actor.username, "region_code": actor.region_code,
                                                 "limit": limit})
            return cur.fetchall()
    finally:
        conn.close()


def claim(dsn: str, worker: str) -> dict | None:
    """The next queued job that the limits let start now, marked running for ``worker``; or None."""
    s = settings()
    conn = connect(dsn)
    try:
        with conn, dict_cursor(conn) as cur:
            cur.execute(sql("export_job_claim"), {"worker": worker, "per_user": s.export_jobs_per_user,
                                                  "global": s.export_jobs_global})
            return cur.fetchone()
    finally:
        conn.close()


def heartbeat(dsn: str, job_id: str) -> None:
    """The job's worker is alive."""
    update(dsn, job_id, "running")


def housekeep(dsn: str, stale_s: float, base: Path | None = None) -> tuple[list[str], list[str]]:
    """Fail running jobs whose worker stopped beating, expire finished files past their time to
    live (deleting them); returns (failed ids, expired ids)."""
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql("export_job_reap"), {"stale_s": stale_s})
            reaped = [r[0] for r in cur.fetchall()]
            cur.execute(sql("export_job_expire"))
            expired = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    root = Path(base or directory())
    for job_id in reaped + expired:  # a reaped job's half-written temporary goes too
        shutil.rmtree(root / job_id, ignore_errors=True)
    return reaped, expired
