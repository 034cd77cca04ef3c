"""``onemap serve``: gunicorn with several worker processes of the gevent worker class.

Why: a live page is a Server-Sent Events stream that stays open for hours. Under a threaded
server each one holds a thread, and 48 open pages starved every other request. A gevent worker
serves each connection from a greenlet (a few KB), so an open page costs a greenlet and a socket,
not a thread; ``psycogreen`` makes psycopg2 yield to other greenlets while it waits on the
database, so a slow query does not stall the process either. Several processes (one per CPU by
default) use every core and keep serving if one dies (the master restarts it).

Per process: one LISTEN connection fans events out to that process's pages (dashboard/live.py),
one escalation runner (api/app.py: an advisory lock lets one runner per database work a round).
Over all processes: open-stream counts per session and per address (web/slots.py, shared memory
created by the master before it forks).

CPU-bound work still blocks its process's greenlets while it runs: keep it short per request, or
run it in an OS thread (``gevent.get_hub().threadpool``) or another process.
"""
from __future__ import annotations

import logging
import os
from typing import Callable

from gunicorn.app.base import BaseApplication

from config import Settings
from web import slots

log = logging.getLogger("onemap.server")


def worker_count(settings: Settings) -> int:
    """Worker processes: ``ONEMAP_WORKERS``, or one per CPU (at least 2, so one can die safely)."""
    return settings.workers or max(2, os.cpu_count() or 1)


# -- gunicorn hooks (master: on_starting, pre_fork, child_exit; worker: post_fork) -----------

def on_starting(server) -> None:
    """Master, once: the shared stream counters, one row per worker (and spares for restarts)."""
    rows = 2 * server.cfg.workers + 3  # row 0: shared by any worker beyond the spares
    slots.install_shared(rows)
    server.onemap_free_rows = list(range(1, rows))


def pre_fork(server, worker) -> None:
    """Master, before each fork: give the new worker a row of the stream counters."""
    free = server.onemap_free_rows
    worker.onemap_row = free.pop(0) if free else 0  # no spare: share row 0 (counts stay right)


def post_fork(server, worker) -> None:
    """Worker, right after the fork: cooperative psycopg2, logging, its counter row."""
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()  # before any connection: libpq waits now yield to other greenlets
    from web.logging import configure_logging

    configure_logging(Settings.from_env().log_level)  # the one format (web/logging.py), request ids included
    slots.current().row = worker.onemap_row


def child_exit(server, worker) -> None:
    """Master, when a worker exited (however): its open streams are gone, forget them."""
    row = getattr(worker, "onemap_row", 0)
    if row:
        slots.current().clear_row(row)
        server.onemap_free_rows.append(row)


class OneMapServer(BaseApplication):
    """gunicorn, configured from ``Settings`` instead of a config file or its own command line."""

    def __init__(self, factory: Callable[[], object], settings: Settings, host: str, port: int):
        self.factory, self.settings, self.host, self.port = factory, settings, host, port
        super().__init__()

    def load_config(self) -> None:
        """Workers, gevent, timeouts, hooks; access log off (the API audit and logs say enough)."""
        cfg = {
            "bind": [f"{self.host}:{self.port}"],
            "workers": worker_count(self.settings),
            "worker_class": "web.gworker.Worker",  # gevent, listening once its app is built
            "worker_connections": self.settings.worker_connections,
            "reuse_port": True,  # a socket per worker, the kernel spreads connections (web/gworker.py)
            "timeout": 60,  # a worker silent this long is restarted (gevent heartbeats on its own)
            "graceful_timeout": 5,  # on stop, live streams are cut after this; pages reconnect
            "keepalive": 5,
            "preload_app": False,  # each worker builds its app: no connection crosses a fork
            "proc_name": "onemap",
            "control_socket_disable": True,  # one fixed path per user: two servers would clash
            "errorlog": "-",
            "loglevel": "info",
            "on_starting": on_starting,
            "pre_fork": pre_fork,
            "post_fork": post_fork,
            "child_exit": child_exit,
        }
        for key, value in cfg.items():
            self.cfg.set(key, value)

    def load(self):
        """In each worker: the WSGI app."""
        return self.factory()


class PortInUse(OSError):
    """Another program (perhaps another OneMap) already listens on the address."""


def ensure_port_free(host: str, port: int) -> None:
    """``PortInUse`` when something listens on ``host:port``. The workers bind with SO_REUSEPORT,
    which would otherwise let a second server share the port silently with the first."""
    import socket

    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        with socket.socket(family, kind, proto) as probe:  # no SO_REUSEPORT: any listener refuses it
            # SO_REUSEADDR: connections of a server just stopped (TIME_WAIT) are no listener
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise PortInUse(f"{host}:{port} is in use ({exc.strerror}); stop what listens there "
                                "or choose another --port") from exc


def serve(factory: Callable[[], object], settings: Settings, host: str, port: int) -> None:
    """Run gunicorn until it is stopped (Ctrl-C, SIGTERM); ``factory()`` builds the WSGI app."""
    ensure_port_free(host, port)
    OneMapServer(factory, settings, host, port).run()
