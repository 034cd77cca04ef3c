"""Open live streams counted per session and per client address, across all worker processes.

The counts live in one block of shared memory that the server's master process creates before
it forks its workers (``install_shared``); each worker writes only its own row, and the master
zeroes a row when its worker exits, so a crashed worker's streams never stay counted. In a single
process (the test fixture, ``python app.py``) the same class works on a private block.

Keys are hashed into ``BUCKETS`` counters per table: two keys that share a bucket are counted
together, which can only make a limit stricter, never looser (and is rare at these sizes).
"""
from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import threading

BUCKETS = 4096
TABLES = ("session", "address")


class StreamSlots:
    """Counters of open streams: ``rows`` writers (worker processes) × two tables × buckets."""

    def __init__(self, rows: int = 1, lock=None):
        self.rows = rows
        self.counts = multiprocessing.RawArray(ctypes.c_int32, rows * len(TABLES) * BUCKETS)
        self.lock = lock or threading.Lock()
        self.row = 0  # the row this process writes (set after fork)

    def _bucket(self, table: int, key: str) -> int:
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        return table * BUCKETS + int.from_bytes(digest, "big") % BUCKETS

    def _total(self, index: int) -> int:
        width = len(TABLES) * BUCKETS
        return sum(self.counts[r * width + index] for r in range(self.rows))

    def acquire(self, session_key: str, address: str, per_session: int, per_address: int) -> str | None:
        """Count one more stream for both keys; or, if either is at its limit, the name of that
        limit ("session" or "address") and nothing counted."""
        s, a = self._bucket(0, session_key), self._bucket(1, address)
        base = self.row * len(TABLES) * BUCKETS
        with self.lock:
            if self._total(s) >= per_session:
                return "session"
            if self._total(a) >= per_address:
                return "address"
            self.counts[base + s] += 1
            self.counts[base + a] += 1
        return None

    def release(self, session_key: str, address: str) -> None:
        """Count one stream fewer for both keys (taken earlier by this process)."""
        s, a = self._bucket(0, session_key), self._bucket(1, address)
        base = self.row * len(TABLES) * BUCKETS
        with self.lock:
            self.counts[base + s] = max(0, self.counts[base + s] - 1)
            self.counts[base + a] = max(0, self.counts[base + a] - 1)

    def open_for(self, session_key: str | None = None, address: str | None = None) -> int:
        """How many streams are open for a session key or an address, over all processes."""
        with self.lock:
            if session_key is not None:
                return self._total(self._bucket(0, session_key))
            return self._total(self._bucket(1, address or ""))

    def clear_row(self, row: int) -> None:
        """Forget every stream counted by ``row`` (its worker exited)."""
        width = len(TABLES) * BUCKETS
        with self.lock:
            ctypes.memset(ctypes.addressof(self.counts) + row * width * 4, 0, width * 4)


_slots = StreamSlots()


def current() -> StreamSlots:
    """The stream counters of this process (shared with the other workers under ``onemap serve``)."""
    return _slots


def install_shared(rows: int) -> StreamSlots:
    """Replace the counters with a block shared by ``rows`` processes forked after this call."""
    global _slots
    _slots = StreamSlots(rows, multiprocessing.get_context("fork").Lock())
    return _slots
