"""Audit of reveals: one audit row per request that returned personal fields unmasked.

``domain.policy`` decides what a caller sees, and every read that returns a classed field
unmasked notes it (``note_reveal``) in this request's collector; after the view ran, one row is
written naming the objects and fields. A reveal that cannot be audited is not delivered: the
response becomes a 503 that says to try again.
"""
from __future__ import annotations

import logging

from flask import Flask, g, request

from data.audit import audit
from db.core import writer
from domain import policy
from web.auth import current_actor
from web.errors import error_body

log = logging.getLogger("onemap.audit")


def install_reveal_audit(server: Flask, dsn: str) -> None:
    """Collect each request's reveals and write them as one audit row after the view."""

    @server.before_request
    def _start():
        g.onemap_reveals_token = policy.start_reveals()

    @server.after_request
    def _write(response):
        reveals = policy.take_reveals(g.pop("onemap_reveals_token", None))
        if not reveals:
            return response
        actor = reveals.actor or current_actor()
        if actor is None:  # cannot happen (a reveal needs a caller); refuse rather than leak
            return error_body(503, "audit_unavailable", "the access could not be recorded; try again")
        try:
            with writer(dsn) as conn:
                audit(conn, actor, reveals.action, "request", request.path[:200],
                      {**reveals.detail(), "method": request.method}, reveals.count)
                conn.commit()
        except Exception:  # an unaudited reveal must not leave the server
            log.exception("could not audit a reveal on %s %s", request.method, request.path)
            return error_body(503, "audit_unavailable", "the access could not be recorded; try again")
        return response
