"""Background export jobs: a row per job (``export_job``) and its file under a jobs directory."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from db.core import connect, dict_cursor, sql

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "var" / "exports"


def create(dsn: str, actor, layers, fmt: str, crs: str, filters: dict, total: int) -> str:
    """Queue a job for ``actor``; returns its id."""
    job_id = str(uuid.uuid4())
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql("export_job_insert"), {
                "id": job_id, "region_code": actor.region_code, "user_id": actor.user_id,
                "username": actor.username, "layers": list(layers), "format": fmt, "crs": crs,
                "filters": json.dumps(filters, ensure_ascii=False, default=str), "total": total})
    finally:
        conn.close()
    return job_id


def update(dsn: str, job_id: str, state: str, done: int | None = None, file_name: str | None = None,
           error: str | None = None) -> None:
    """Record progress, the finished file or the failure of a job."""
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql("export_job_update"), {"id": job_id, "state": state, "done": done,
                                                   "file_name": file_name, "error": error})
    finally:
        conn.close()


def get(dsn: str, actor, job_id: str) -> dict | None:
    """The job ``job_id`` if ``actor`` started it, else None."""
    try:
        uuid.UUID(job_id)
    except ValueError:
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
    """``actor``'s latest jobs, newest first."""
    conn = connect(dsn)
    try:
        with dict_cursor(conn) as cur:
            cur.execute(sql("export_job_list"), {"username": actor.username, "region_code": actor.region_code,
                                                 "limit": limit})
            return cur.fetchall()
    finally:
        conn.close()
