"""A county's backup: ``pg_dump`` of a OneMap database with its data, read back by ``pg_restore``
into a new database with no error, holds the same rows, and is at the same migration (an upgrade
of it applies nothing). pg_restore runs with an empty search_path: a SQL function body that calls
another function by name broke it once (0048)."""
from __future__ import annotations

import subprocess
import uuid

import pytest

from db.cluster import pg_bindir
from db.core import connect, upgrade

from conftest import _admin, _drop, _with_db

TABLES = ("incident", "incident_event", "incident_state", "incident_rollup_folded", "incident_rollup_unit",
          "grid_unit", "road_edge", "app_user", "audit_log", "reg_person", "reg_house", "schema_migration")


def _counts(dsn: str) -> dict[str, int]:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in TABLES:
                cur.execute(f"SELECT count(*) FROM {table}")  # constant names, not input
                out[table] = cur.fetchone()[0]
            cur.execute("SELECT state, phase FROM incident_state ORDER BY state")
            out["phases"] = cur.fetchall()
            return out
    finally:
        conn.close()


@pytest.fixture
def restored(server_dsn):
    name = f"onemap_test_restore_{uuid.uuid4().hex[:8]}"
    admin = _admin(server_dsn)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
    yield _with_db(server_dsn, name)
    _drop(admin, name)


def test_a_dump_restores_whole_into_a_new_database(demo_dsn, restored, tmp_path):
    dump = tmp_path / "onemap.dump"
    subprocess.run([str(pg_bindir() / "pg_dump"), "-Fc", "-f", str(dump), demo_dsn], check=True)
    before = _counts(demo_dsn)
    done = subprocess.run([str(pg_bindir() / "pg_restore"), "--exit-on-error", "-j", "2", "-d", restored, str(dump)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert before["incident"] > 0 and before["reg_person"] > 0
    assert _counts(restored) == before
    conn = connect(restored)
    try:
        assert upgrade(conn) == []  # at the same migration
        with conn.cursor() as cur:  # the phase functions work under pg_restore's empty search_path too
            cur.execute("SET search_path = ''")
            cur.execute("SELECT public.incident_phase('new'), public.incident_is_overdue('new', now(), now())")
            assert cur.fetchone() == ("open", True)
    finally:
        conn.close()
