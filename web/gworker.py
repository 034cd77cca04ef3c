"""The worker of ``onemap serve``: gunicorn's gevent worker, listening on a socket of its own that
it opens only once its app is built.

On one listening socket shared by all workers, gevent's accept loop in whichever worker woke first
took a whole burst of connections (measured: 50 phones connecting at once all went to one of two
workers, the other idle, and stayed there on keep-alive). With ``reuse_port`` each worker listens on
its own SO_REUSEPORT socket and the kernel spreads new connections over the sockets. gunicorn opens
that socket before the worker builds the app, so connections the kernel hashed to a worker still
booting (seconds, on a busy machine) waited for it; this worker closes that early socket and opens
its own after the app is built, so the kernel only ever picks workers that can answer.
"""
from __future__ import annotations

import socket
from typing import Any

from gunicorn import sock
from gunicorn.workers.ggevent import GeventWorker


class Worker(GeventWorker):
    """gunicorn's gevent worker whose SO_REUSEPORT listener opens after the app is built."""

    sockets: list[Any]

    def init_process(self) -> None:
        """Close the listener gunicorn opened before the app was built; ``run`` opens ours."""
        early: list[Any] = self.sockets  # gunicorn's listeners (untyped)
        for listener in early:
            listener.close()
        self.sockets = []
        super().init_process()  # patch, build the app (load_wsgi), then run()

    def run(self) -> None:
        """Listen (the app is built by now), then serve as gunicorn's gevent worker does."""
        listeners = sock.create_sockets(self.cfg, self.log)  # SO_REUSEPORT: cfg.reuse_port is on
        self.sockets = [socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in listeners]
        super().run()
