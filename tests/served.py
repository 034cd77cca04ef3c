"""The production server (`onemap serve`: gunicorn, gevent workers) in a subprocess, and a raw
SSE client for its live streams. Shared by tests/test_serving.py, tests/test_outage.py and the
benchmarks in bench/ (which run it the same way)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None, headers: dict | None = None, timeout: float = 30):
    """(status, headers, body bytes) of a GET, errors included (no exception for 4xx/5xx)."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    try:
        with urlopen(Request(url, headers=h), timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def post_json(url: str, body: dict, token: str, timeout: float = 30):
    """(status, parsed JSON) of a POST with a bearer token."""
    req = Request(url, data=json.dumps(body).encode(), method="POST",
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@contextlib.contextmanager
def onemap_serve(dsn: str, log_path: Path, workers: int = 2, port: int | None = None, **env):
    """`onemap serve` over ``dsn`` on ``port`` (default: a free one), until the block ends; yields its
    base URL. ``env``: extra ONEMAP_* settings (names without the prefix, e.g. STREAMS_PER_SESSION=5)."""
    port = port or free_port()
    environ = dict(os.environ, DATABASE_URL=dsn, ONEMAP_WORKERS=str(workers), ONEMAP_ESCALATE_EVERY_S="0",
                   **{f"ONEMAP_{k.upper()}": str(v) for k, v in env.items()})
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "serve", "--port", str(port)],
                            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"onemap serve exited {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if get(base + "/login", timeout=5)[0] == 200:
                    break
            except (URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"onemap serve did not answer within 90 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def worker_pids(base_log: Path) -> set[int]:
    """The gunicorn worker pids a server log names ("Booting worker with pid: N")."""
    return {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", base_log.read_text())}


class Stream:
    """One live stream over a raw socket (HTTP/1.0: no chunking), read incrementally."""

    def __init__(self, base: str, token: str | None = None, last_event_id: int | str | None = None,
                 path: str = "/events/stream", timeout: float = 30):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        lines = [f"GET {path} HTTP/1.0", f"Host: {host}:{port}", "Accept: text/event-stream"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if last_event_id is not None:
            lines.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}

    def events(self) -> list[dict]:
        """The SSE messages received so far: {'id': int | None, 'data': dict}."""
        out = []
        for block in self.buf.decode("utf-8", "replace").split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line
                          and not line.startswith(":"))
            if "data" in fields:
                out.append({"id": int(fields["id"]) if fields.get("id", "").isdigit() else None,
                            "data": json.loads(fields["data"])})
        return out

    def wait_for(self, predicate, timeout: float = 30) -> dict:
        """Read until an event satisfies ``predicate``; that event (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events():
                if predicate(event):
                    return event
            left = deadline - time.monotonic()
            assert left > 0, f"no matching event within {timeout} s; got {self.events()}"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            assert chunk, f"stream closed; got {self.events()}"
            self.buf += chunk

    def body(self) -> bytes:
        """The rest of a finished (non-stream) response."""
        self.sock.settimeout(10)
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return self.buf
            self.buf += chunk

    def close(self) -> None:
        """Close the socket (the server notices at its next heartbeat)."""
        with contextlib.suppress(OSError):
            self.sock.close()


@contextlib.contextmanager
def throwaway_cluster(incidents: int = 0):
    """A PostgreSQL cluster of its own (initdb, pg_ctl; as the ``postgres`` user when root) on a
    free port, with the demo county loaded; yields .dsn, .start(), .stop() (fast shutdown)."""
    from datetime import datetime, timezone

    import psycopg2

    from db import cluster
    from db.core import connect, upgrade
    from demo.loader import load_demo

    bindir, user = cluster.pg_bindir(), cluster._run_as()

    def run(args: list[str]) -> None:
        res = subprocess.run(cluster._cmd(args, user), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {res.stderr}{res.stdout}")

    pgdata = Path(tempfile.mkdtemp(prefix="onemap-outage-", dir="/var/tmp"))
    if user:
        shutil.chown(pgdata, user, user)
    run([str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8"])
    port = free_port()

    def start() -> None:
        run([str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(pgdata), "-l", str(pgdata / "log"),
             "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {pgdata} -c fsync=off"])

    def stop() -> None:
        run([str(bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(pgdata)])

    start()
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE onemap")
        admin.close()
        dsn = f"postgresql://postgres@127.0.0.1:{port}/onemap"
        conn = connect(dsn)
        upgrade(conn)
        conn.close()
        load_demo(dsn, seed=1, incidents=incidents, now=datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc))
        yield SimpleNamespace(dsn=dsn, start=start, stop=stop)
    finally:
        subprocess.run(cluster._cmd([str(bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(pgdata)], user),
                       capture_output=True)
        shutil.rmtree(pgdata, ignore_errors=True)


def connections_per_process(pids: set[int], port: int, state: str = "01") -> dict[int, int]:
    """How many TCP sockets on local ``port`` each of ``pids`` holds in ``state`` ("01": established,
    "0A": listening), from /proc: each process's socket inodes matched against /proc/net/tcp{,6}."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as fh:
            for line in list(fh)[1:]:
                fields = line.split()
                local, inode = fields[1], fields[9]
                if fields[3] == state and int(local.rsplit(":", 1)[1], 16) == port:
                    established.add(inode)
    counts = {}
    for pid in pids:
        inodes = set()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        counts[pid] = len(inodes & established)
    return counts
