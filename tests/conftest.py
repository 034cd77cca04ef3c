"""Shared fixtures: throwaway PostGIS databases built with the production migrations.

The suite never skips for want of a database: if PostGIS cannot be reached, every database test
errors, and CI goes red.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from db.cluster import resolve_dsn
from db.core import connect, upgrade

# Debian's Chromium through Playwright: no browser download, no network of its own
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# A fixed "now" keeps the demo deterministic inside the tests.
DEMO_NOW = datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc)
DEMO_INCIDENTS = 3000
# Apps built here run no escalation thread (Settings defaults to 60 s); tests escalate explicitly.
os.environ["ONEMAP_ESCALATE_EVERY_S"] = "0"


def _with_db(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(dsn: str):
    conn = psycopg2.connect(_with_db(dsn, "postgres"))
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def server_dsn() -> str:
    """DSN of the server under test (DATABASE_URL or the project-local cluster)."""
    return resolve_dsn()


def _fresh_database(server_dsn: str, label: str):
    name = f"onemap_test_{label}_{uuid.uuid4().hex[:8]}"
    admin = _admin(server_dsn)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name built here, not from input
    dsn = _with_db(server_dsn, name)
    conn = connect(dsn)
    upgrade(conn)
    conn.close()
    return admin, name, dsn


def _drop(admin, name: str) -> None:
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def empty_dsn(server_dsn):
    """A migrated database with no data, for the whole session."""
    admin, name, dsn = _fresh_database(server_dsn, "empty")
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture(scope="session")
def demo_dsn(server_dsn):
    """A migrated database holding the demo county (seed 1, fixed now, a small history)."""
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "demo")
    load_demo(dsn, seed=1, incidents=DEMO_INCIDENTS, now=DEMO_NOW)
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture
def demo_conn(demo_dsn):
    """A connection to the demo database whose changes are rolled back after the test."""
    conn = connect(demo_dsn)
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def empty_conn(empty_dsn):
    """A connection to the empty database whose changes are rolled back after the test."""
    conn = connect(empty_dsn)
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture(scope="session")
def quiet_dsn(server_dsn):
    """The demo county with no incident history: for tests that run escalation over a region."""
    from demo.loader import load_demo

    admin, name, dsn = _fresh_database(server_dsn, "quiet")
    load_demo(dsn, seed=1, incidents=0, now=DEMO_NOW)
    yield dsn
    if not os.environ.get("ONEMAP_KEEP_TEST_DB"):
        _drop(admin, name)


@pytest.fixture(scope="session")
def demo_server(demo_dsn):
    """The whole app over the demo county on a free local port, served by waitress in a thread."""
    import socket
    import threading

    from waitress.server import create_server

    from app import Settings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = create_server(create_app(Settings(dsn=demo_dsn)), host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=srv.run, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    srv.close()


def scalar(dsn: str, query: str, params=()):
    """The single value a query returns, on a connection of its own."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium (``/usr/bin/chromium``) for a block, closed when it ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
