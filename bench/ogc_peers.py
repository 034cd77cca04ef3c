"""The OGC API peers of bench/exports.py, serving the very same ``incident`` table: tipg (FastAPI
under uvicorn) and pygeoapi (its PostgreSQL provider, Flask under waitress), each in a subprocess
on a free port. tipg comes with the ``bench`` extra (pyproject.toml). pygeoapi cannot share our
venv — its wheel installs a top-level ``tests`` package that shadows our tests/ — so it gets a venv
of its own, ``var/bench-pygeoapi``, made here on first use (pip; the packages named in
``PYGEOAPI_PACKAGES``). A peer that is missing or does not start is reported and skipped, never faked."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PYGEOAPI_VENV = ROOT / "var" / "bench-pygeoapi"
PYGEOAPI_PACKAGES = ["pygeoapi>=0.20", "geoalchemy2>=0.15", "psycopg2-binary>=2.9", "waitress>=3.0"]


def pygeoapi_python() -> Path:
    """The Python of pygeoapi's own venv, made (and filled) when missing."""
    python = PYGEOAPI_VENV / "bin" / "python"
    if not (PYGEOAPI_VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PYGEOAPI_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PYGEOAPI_PACKAGES], check=True,
                       timeout=1200)
        (PYGEOAPI_VENV / ".installed").touch()
    return python


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(proc: subprocess.Popen, url: str, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer within {seconds} s: {log.read_text()[-2000:]}")
        time.sleep(0.5)


@contextlib.contextmanager
def _served(cmd: list[str], env: dict, probe: str, work: Path):
    log = work / "peer.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=work)
        try:
            _wait(proc, probe, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def tipg(dsn: str):
    """tipg over ``dsn`` publishing ``public.incident``; yields the items URL of that collection."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
        base = f"http://127.0.0.1:{port}"
        with _served([sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", str(port), "--log-level",
                      "warning"], env, base + "/collections", Path(tmp)):
            yield base, base + "/collections/public.incident/items"


PYGEOAPI_CONFIG = """server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 100, max_items: 10000}}
  # pygeoapi requires a base map for its HTML pages (not used here); no internet host: a local path
  map: {{url: 'http://127.0.0.1:{port}/no-tiles/{{z}}/{{x}}/{{y}}.png', attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                    terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: none, url: 'http://127.0.0.1'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench, position: bench, address: bench, city: bench, stateorprovince: bench,
            postalcode: '0', country: CN, phone: '0', fax: '0', email: bench@example.org,
            url: 'http://127.0.0.1', hours: any, instructions: none, role: pointOfContact}}
resources:
  incidents:
    type: collection
    title: incidents
    description: incidents
    keywords: [incidents]
    links: []
    extents:
      spatial: {{bbox: [106.0, 37.0, 109.5, 40.0], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: '{host}', port: {pgport}, dbname: '{db}', user: '{user}', password: '{password}'}}
        id_field: id
        table: incident
        geom_field: geom
"""


@contextlib.contextmanager
def pygeoapi(dsn: str):
    """pygeoapi over ``dsn`` with one collection on ``incident``; yields the items URL."""
    port = free_port()
    u = urlsplit(dsn)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config, openapi = work / "config.yml", work / "openapi.yml"
        config.write_text(PYGEOAPI_CONFIG.format(port=port, host=u.hostname, pgport=u.port or 5432,
                                                 db=u.path.lstrip("/"), user=u.username or "",
                                                 password=u.password or ""))
        env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
        python = pygeoapi_python()
        cli = str(python.parent / "pygeoapi")
        done = subprocess.run([cli, "openapi", "generate", str(config),
                               "--output-file", str(openapi)], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"pygeoapi openapi generate failed: {done.stderr[-2000:]}")
        base = f"http://127.0.0.1:{port}"
        with _served([str(python), "-m", "waitress", "--host", "127.0.0.1", "--port", str(port), "--threads", "4",
                      "pygeoapi.flask_app:APP"], env, base + "/collections?f=json", work):
            yield base, base + "/collections/incidents/items"
