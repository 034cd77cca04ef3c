"""Open live streams counted per session and per client address, across all worker processes.

The counts live in one block of shared memory that the server's master process creates before
it forks its workers (``install_shared``); each worker writes only its own row, and the master
zeroes a row when its worker exits, so a crashed worker's streams never stay counted. In a single
process (the test fixture, ``python app.py``) the same class works on a private block.

A row holds one open-addressing table per kind of key (session, address): 64-bit fingerprints of
the keys and their counts, so counts are exact (two keys never share a counter; a fingerprint
collision is a 1-in-2^64 event). A row compacts itself when its table fills with keys whose
count went back to zero.
"""
from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import threading

CAPACITY = 8192  # keys per table and row: far above one worker's open connections
TABLES = ("session", "address")


def _fingerprint(key: str) -> int:
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True) or 1  # 0 marks an empty slot


class StreamSlots:
    """Counters of open streams: ``rows`` writers (worker processes) × two tables of keys."""

    def __init__(self, rows: int = 1, lock=None):
        self.rows = rows
        size = rows * len(TABLES) * CAPACITY
        self.keys = multiprocessing.RawArray(ctypes.c_int64, size)
        self.counts = multiprocessing.RawArray(ctypes.c_int32, size)
        self.used = multiprocessing.RawArray(ctypes.c_int32, rows * len(TABLES))  # claimed slots
        self.lock = lock or threading.Lock()
        self.row = 0  # the row this process writes (set after fork)

    def _base(self, row: int, table: int) -> int:
        return (row * len(TABLES) + table) * CAPACITY

    def _find(self, row: int, table: int, fp: int) -> int | None:
        """The slot of ``fp`` in a row's table, or None."""
        base = self._base(row, table)
        for step in range(CAPACITY):
            i = base + (fp + step) % CAPACITY
            if self.keys[i] == fp:
                return i
            if self.keys[i] == 0:
                return None
        return None

    def _total(self, table: int, fp: int) -> int:
        total = 0
        for row in range(self.rows):
            i = self._find(row, table, fp)
            if i is not None:
                total += self.counts[i]
        return total

    def _slot(self, table: int, fp: int) -> int:
        """This process's slot for ``fp`` (claimed if new; the row compacted if full)."""
        found = self._find(self.row, table, fp)
        if found is not None:
            return found
        used = self.row * len(TABLES) + table
        if self.used[used] >= CAPACITY // 2:  # keep probe chains short: drop the zero counts
            self._compact(table)
        base = self._base(self.row, table)
        for step in range(CAPACITY):
            i = base + (fp + step) % CAPACITY
            if self.keys[i] == 0:
                self.keys[i] = fp
                self.used[used] += 1
                return i
        raise RuntimeError("stream counter table full")  # CAPACITY // 2 streams open in one process

    def _compact(self, table: int) -> None:
        """Rebuild this row's table without the keys whose count is zero."""
        base = self._base(self.row, table)
        live = [(self.keys[base + k], self.counts[base + k]) for k in range(CAPACITY)
                if self.keys[base + k] and self.counts[base + k] > 0]
        for k in range(CAPACITY):
            self.keys[base + k] = 0
            self.counts[base + k] = 0
        for fp, n in live:
            for step in range(CAPACITY):
                i = base + (fp + step) % CAPACITY
                if self.keys[i] == 0:
                    self.keys[i], self.counts[i] = fp, n
                    break
        self.used[self.row * len(TABLES) + table] = len(live)

    def acquire(self, session_key: str, address: str, per_session: int, per_address: int) -> str | None:
        """Count one more stream for both keys; or, if either is at its limit, the name of that
        limit ("session" or "address") and nothing counted."""
        s, a = _fingerprint(session_key), _fingerprint(address)
        with self.lock:
            if self._total(0, s) >= per_session:
                return "session"
            if self._total(1, a) >= per_address:
                return "address"
            self.counts[self._slot(0, s)] += 1
            self.counts[self._slot(1, a)] += 1
        return None

    def release(self, session_key: str, address: str) -> None:
        """Count one stream fewer for both keys (taken earlier by this process)."""
        with self.lock:
            for table, key in ((0, session_key), (1, address)):
                i = self._find(self.row, table, _fingerprint(key))
                if i is not None and self.counts[i] > 0:
                    self.counts[i] -= 1

    def open_for(self, session_key: str | None = None, address: str | None = None) -> int:
        """How many streams are open for a session key or an address, over all processes."""
        with self.lock:
            if session_key is not None:
                return self._total(0, _fingerprint(session_key))
            return self._total(1, _fingerprint(address or ""))

    def clear_row(self, row: int) -> None:
        """Forget every stream counted by ``row`` (its worker exited)."""
        start, n = self._base(row, 0), len(TABLES) * CAPACITY
        with self.lock:
            ctypes.memset(ctypes.addressof(self.keys) + start * 8, 0, n * 8)
            ctypes.memset(ctypes.addressof(self.counts) + start * 4, 0, n * 4)
            for table in range(len(TABLES)):
                self.used[row * len(TABLES) + table] = 0


_slots = StreamSlots()


def current() -> StreamSlots:
    """The stream counters of this process (shared with the other workers under ``onemap serve``)."""
    return _slots


def install_shared(rows: int) -> StreamSlots:
    """Replace the counters with a block shared by ``rows`` processes forked after this call."""
    global _slots
    _slots = StreamSlots(rows, multiprocessing.get_context("fork").Lock())
    return _slots
