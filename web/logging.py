"""Logging, configured once by the composition root, with the request's id on every line.

``configure_logging()`` sets the root handler and format (``ONEMAP_LOG_LEVEL``); it is called by
the command line (``app.py``) and again in each forked server worker. ``install_request_id(server)``
gives every request an id: the caller's ``X-Request-ID`` when it is a sane token, else a new one,
echoed in the response's ``X-Request-ID``. Every log record carries it as ``request_id`` ("-"
outside a request: the escalation runner, the live-feed listener, the command line).
"""
from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s [%(request_id)s] %(message)s"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a caller's id goes into logs: no spaces, no newlines
_installed_factory: Any = None
access_log = logging.getLogger("onemap.http")


def request_id() -> str:
    """The current request's id, or "-" outside a request."""
    if has_request_context():
        return g.get("request_id") or "-"
    return "-"


def _install_record_factory() -> None:
    """Every record, from any logger and any handler, gets ``request_id`` (installed once)."""
    global _installed_factory
    if _installed_factory is not None:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id()
        return record

    logging.setLogRecordFactory(factory)
    _installed_factory = factory


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """One stream handler on the root logger with the request-id format (replacing any before it)."""
    _install_record_factory()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def _begin() -> None:
    offered = request.headers.get(HEADER, "")
    g.request_id = offered if _SANE_ID.match(offered) else uuid.uuid4().hex


def _end(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    access_log.debug("%s %s -> %s", request.method, request.path, response.status_code)
    return response


def install_request_id(server: Flask) -> None:
    """Give every request of ``server`` an id (first of its hooks: later ones log with it)."""
    _install_record_factory()
    server.before_request_funcs.setdefault(None, []).insert(0, _begin)
    server.after_request(_end)
