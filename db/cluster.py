"""The zero-configuration database: a project-local PostgreSQL cluster under ``var/pg``.

Used only when ``DATABASE_URL`` is not set. PostgreSQL refuses to run as root, so when we are
root the cluster belongs to the ``postgres`` system user (created by Debian's package) and is
started through ``runuser``. It listens on 127.0.0.1 at ``ONEMAP_PG_PORT`` (default 55432), so it
never collides with a system cluster on 5432.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 55432
DEFAULT_DB = "onemap"


class ClusterError(RuntimeError):
    """The local cluster could not be created or started; the message says what to do."""


def pg_bindir() -> Path:
    """Directory of the PostgreSQL server binaries (initdb, pg_ctl)."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ClusterError(
        "PostgreSQL server binaries not found. Run `make deps` (installs postgresql-15, "
        "postgresql-15-postgis-3, postgresql-15-pgrouting) or set DATABASE_URL."
    )


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _port(pgdata: Path, running: bool) -> int:
    """``ONEMAP_PG_PORT`` if set; the port a running cluster listens on; else the one it used
    before (``<pgdata>.port``), 55432, or any free port when another server holds those."""
    configured = Settings().pg_port
    if configured:
        return configured
    if running:  # postmaster.pid's fourth line is the port it listens on
        return int((pgdata / "postmaster.pid").read_text().splitlines()[3])
    remembered = pgdata.with_suffix(".port")
    candidates = [int(remembered.read_text())] if remembered.exists() else []
    port = next((p for p in [*candidates, DEFAULT_PORT] if _port_free(p)), None)
    if port is None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    remembered.write_text(f"{port}\n")
    return port


def _run_as() -> str | None:
    """The system user that owns the cluster when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ClusterError("running as root needs the 'postgres' system user (install postgresql-15)") from exc
    return "postgres"


def _cmd(args: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *args] if user else args


def data_dir() -> Path:
    """Where the cluster lives: ``var/pg`` in the project, or a per-project folder in /var/tmp
    when the postgres user cannot reach the project folder (e.g. a checkout under /root)."""
    local = PROJECT_ROOT / "var" / "pg"
    user = _run_as()
    if user is None:
        return local
    probe = subprocess.run(_cmd(["test", "-x", str(PROJECT_ROOT)], user), capture_output=True)
    if probe.returncode == 0:
        return local
    import hashlib

    digest = hashlib.sha1(str(PROJECT_ROOT).encode()).hexdigest()[:10]
    return Path("/var/tmp") / f"onemap-pg-{digest}"


def _is_running(bindir: Path, pgdata: Path, user: str | None) -> bool:
    res = subprocess.run(_cmd([str(bindir / "pg_ctl"), "status", "-D", str(pgdata)], user),
                         capture_output=True, text=True)
    return res.returncode == 0


def ensure_running() -> str:
    """Create the local cluster if needed, start it if stopped, and return its DSN."""
    bindir = pg_bindir()
    user = _run_as()
    pgdata = data_dir()
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(pgdata, user, user)
        res = subprocess.run(
            _cmd([str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8"], user),
            capture_output=True, text=True)
        if res.returncode != 0:
            raise ClusterError(f"initdb failed in {pgdata}:\n{res.stderr.strip()}")
    running = _is_running(bindir, pgdata, user)
    port = _port(pgdata, running)
    if not running:
        logfile = pgdata / "server.log"
        opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {pgdata} "
                "-c shared_buffers=512MB -c max_wal_size=4GB -c fsync=on -c synchronous_commit=off")
        res = subprocess.run(
            _cmd([str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(pgdata),
                  "-l", str(logfile), "-o", opts], user),
            capture_output=True, text=True)
        if res.returncode != 0:
            tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise ClusterError(
                f"could not start PostgreSQL on 127.0.0.1:{port} ({pgdata}).\n{res.stderr.strip()}\n{tail}\n"
                "If the port is taken, set ONEMAP_PG_PORT to a free port, or set DATABASE_URL.")
    dsn = f"postgresql://postgres@127.0.0.1:{port}/{DEFAULT_DB}"
    _ensure_database(port)
    _ensure_app_login(port)
    return dsn


def _ensure_database(port: int) -> None:
    import psycopg2

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DEFAULT_DB,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{DEFAULT_DB}"')  # constant name, no user input
    conn.close()


def _ensure_app_login(port: int) -> None:
    """The server's own login role ``onemap_app`` (trust on 127.0.0.1, like the owner): migrations
    grant it what the running app may do (0012_app_role.sql); no superuser, no role or database
    creation, no replication, so it cannot lift its own limits."""
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'onemap_app'")
            row = cur.fetchone()
            if row is None:
                cur.execute("CREATE ROLE onemap_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
            elif row != (True, False):
                cur.execute("ALTER ROLE onemap_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
    finally:
        conn.close()


def is_local(dsn: str) -> bool:
    """Whether ``dsn`` points at the project-local cluster (127.0.0.1 on its remembered port)."""
    from psycopg2.extensions import parse_dsn

    try:
        parts = parse_dsn(dsn)
    except Exception:  # not a DSN we can read: not ours
        return False
    if parts.get("host") not in ("127.0.0.1", "localhost") or "password" in parts:
        return False
    configured = Settings().pg_port
    if configured:
        port = configured
    else:
        pgdata = data_dir()
        remembered, pid = pgdata.with_suffix(".port"), pgdata / "postmaster.pid"
        if remembered.exists():
            port = int(remembered.read_text())
        elif pid.exists():  # postmaster.pid's fourth line is the port it listens on
            port = int(pid.read_text().splitlines()[3])
        else:
            return False
    return int(parts.get("port", 5432)) == port


def stop() -> bool:
    """Stop the local cluster; True if it was running."""
    bindir = pg_bindir()
    user = _run_as()
    pgdata = data_dir()
    if not (pgdata / "PG_VERSION").exists() or not _is_running(bindir, pgdata, user):
        return False
    subprocess.run(_cmd([str(bindir / "pg_ctl"), "stop", "-m", "fast", "-D", str(pgdata)], user),
                   check=True, capture_output=True)
    return True


def resolve_dsn() -> str:
    """``DATABASE_URL`` when set; otherwise the project-local cluster, started on demand."""
    url = Settings().dsn
    return url if url else ensure_running()
