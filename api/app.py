"""Installs the API on the Flask server: /api/v1, JSON errors, and the escalation runner."""
from __future__ import annotations

import logging
import threading

from flask import Flask

from api import exports as exports_api
from api import field as field_api
from api import loop, ogc, open311, registry, routing, v1
from data import incidents
from db.core import writer
from web.errors import install_error_handlers
from web.params import install as install_params
from web.reveals import install_reveal_audit

log = logging.getLogger("onemap.escalation")
MAX_BODY_BYTES = 12 * 1024 * 1024  # a 10 MB photo plus headroom; larger bodies get a 413


def install_api(server: Flask, dsn: str) -> None:
    """Register the field-app API and its error handling on ``server``."""
    server.config["ONEMAP_DSN"] = dsn
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    install_error_handlers(server)
    install_reveal_audit(server, dsn)  # one audit row per request that revealed something
    install_params(server)  # request guards, bounded JSON, Dash dispatch guard (web/params.py)
    for api in (v1, loop, open311, routing, ogc, exports_api, field_api, registry):
        server.register_blueprint(api.create_blueprint())


ESCALATION_LOCK = 0x0E3AA  # advisory lock key: one escalation round per database at a time


def escalation_round(dsn: str) -> int | None:
    """One round of ``escalate_due`` if no other runner (process or machine) holds the round's
    advisory lock; None when another one does. The lock ends with the round's transaction."""
    with writer(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ESCALATION_LOCK,))
            if not cur.fetchone()[0]:
                conn.rollback()
                return None
        return incidents.escalate_due(conn)  # commits, which releases the lock


def start_escalator(dsn: str, every_s: float) -> threading.Event:
    """Run an escalation round about every ``every_s`` seconds in a daemon thread (a greenlet
    under gevent); set the returned event to stop it. Every process of every server runs one:
    the advisory lock lets one of them work per round and the others skip it, and the jitter
    spreads their wake-ups. A database outage is logged once (db/outage.py), not every round."""
    import random

    from db.outage import is_unavailable, tracker

    stop = threading.Event()

    def loop():
        while not stop.wait(every_s * random.uniform(0.9, 1.1)):
            try:
                made = escalation_round(dsn)
                if made:
                    log.info("escalated %d incident level(s)", made)
            except Exception as exc:  # a database restart must not kill the runner; try next round
                if is_unavailable(exc):
                    tracker(dsn).report(exc, "escalation runner")
                else:
                    log.exception("escalation round failed; retrying in about %s s", every_s)

    threading.Thread(target=loop, name="onemap-escalator", daemon=True).start()
    return stop


def start_rollup_folder(dsn: str, every_s: float) -> threading.Event:
    """Fold the roll-up's pending change rows about every ``every_s`` seconds in a daemon thread
    (a greenlet under gevent); set the returned event to stop it. Every process runs one; the
    database lets one fold at a time and the others skip. KPIs are exact without it (readers add
    the unfolded rows): folding only keeps that pending set small."""
    from data import rollup

    stop = threading.Event()

    def loop():
        failing = False
        while not stop.wait(every_s):
            try:
                with writer(dsn) as conn:
                    rollup.fold(conn)
                failing = False
            except Exception as exc:  # a database restart must not kill the folder; try next round
                if not failing:  # one line per failing episode, not one a second
                    logging.getLogger("onemap.rollup").warning(
                        "roll-up fold failed (%s); retrying every %g s, quietly until it works", exc, every_s)
                failing = True

    threading.Thread(target=loop, name="onemap-rollup-folder", daemon=True).start()
    return stop


def start_bulletin_scheduler(owner_dsn: str, region_code: str, every_s: float) -> threading.Event:
    """About every ``every_s`` seconds, write the bulletins of ended weeks and months not kept yet
    in a niced child process (``exports.bulletin.scheduled``: typesetting never holds up this
    process's requests); its advisory lock lets one run work at a time over every process."""
    import json
    import random
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    task = json.dumps({"dsn": owner_dsn, "region_code": region_code}).encode()
    stop = threading.Event()

    def loop():
        while not stop.wait(every_s * random.uniform(0.9, 1.1)):
            try:
                done = subprocess.run([sys.executable, "-m", "exports.bulletin.scheduled"], cwd=root, input=task,
                                      capture_output=True, timeout=3600)
                if done.returncode != 0:
                    log.warning("scheduled bulletins failed: %s", done.stderr.decode(errors="replace")[-500:])
            except Exception:  # noqa: BLE001 - next round
                log.exception("scheduled bulletins could not run; trying again in about %s s", every_s)

    threading.Thread(target=loop, name="onemap-bulletins", daemon=True).start()
    return stop
