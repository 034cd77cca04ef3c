"""Read ahead: the next chunk of rows is fetched in a thread while the writer stores this one.

The database builds and sends a chunk while SQLite (or GDAL) writes the previous one, and both
release the GIL while they wait or work in C, so the two costs overlap instead of adding up.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(source: Iterator[T], depth: int = 2) -> Iterator[T]:
    """The items of ``source``, produced up to ``depth`` ahead in a thread. Errors come through
    in order; when the consumer stops early the thread stops too and is joined before this
    returns, so the caller can use ``source``'s connection again right after."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))

    thread = threading.Thread(target=produce, name="export-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = box.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
