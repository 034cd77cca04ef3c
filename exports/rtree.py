"""A packed SQLite R-tree, written straight into the shadow tables of an empty ``rtree`` table.

Inserting a million boxes one by one costs SQLite's R-tree a split-and-rebalance walk each (the
largest part of a GeoPackage export); GDAL ≥ 3.7 builds its index in memory for the same reason.
Here the boxes are sorted once (Sort-Tile-Recursive packing: slices by x, then by y within each
slice), cut into full nodes level by level in numpy, and the node blobs are written in SQLite's own
format (``rtree.c``): a 2-byte tree depth (root only), a 2-byte cell count, then cells of a
big-endian 8-byte id and four big-endian float32 bounds (min x, max x, min y, max y), each node
padded to the node size the table was created with. Bounds are rounded outwards to float32 the
way SQLite rounds them. ``SELECT rtreecheck(…)`` checks the result in the tests.
"""
from __future__ import annotations

import math
import sqlite3

import numpy as np

CELLS = 51                       # RTREE_MAXCELLS: the cells of a node at SQLite's default page size
CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
NODE_BYTES = 4 + CELL.itemsize * CELLS


RND_TOWARDS = 1.0 - 1.0 / 8388608.0  # SQLite's rtreeValueDown/Up: nudge by 2^-23, then round to float32
RND_AWAY = 1.0 + 1.0 / 8388608.0


def down(v: np.ndarray) -> np.ndarray:
    """``v`` as float32 no greater than ``v``, exactly as SQLite's R-tree rounds a minimum."""
    f = v.astype(np.float32)
    over = f.astype(np.float64) > v
    f[over] = (v[over] * np.where(v[over] < 0, RND_AWAY, RND_TOWARDS)).astype(np.float32)
    return f


def up(v: np.ndarray) -> np.ndarray:
    """``v`` as float32 no less than ``v``, exactly as SQLite's R-tree rounds a maximum."""
    f = v.astype(np.float32)
    under = f.astype(np.float64) < v
    f[under] = (v[under] * np.where(v[under] < 0, RND_TOWARDS, RND_AWAY)).astype(np.float32)
    return f


def _str_order(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """The order that packs boxes with centres ``cx, cy`` into nodes: vertical slices, then y."""
    n = len(cx)
    slices = math.ceil(math.sqrt(math.ceil(n / CELLS)))
    per_slice = slices * CELLS
    by_x = np.argsort(cx, kind="stable")
    parts = [by_x[s:s + per_slice] for s in range(0, n, per_slice)]
    return np.concatenate([p[np.argsort(cy[p], kind="stable")] for p in parts])


def _nodes(ids, minx, maxx, miny, maxy, depth: int) -> tuple[list[bytes], tuple]:
    """Full nodes of the entries in the order given, and each node's box (float32)."""
    n = len(ids)
    count = math.ceil(n / CELLS)
    cells = np.zeros(count * CELLS, dtype=CELL)
    cells["id"][:n], cells["minx"][:n], cells["maxx"][:n] = ids, minx, maxx
    cells["miny"][:n], cells["maxy"][:n] = miny, maxy
    buf = np.zeros((count, NODE_BYTES), dtype=np.uint8)
    buf[:, 4:] = cells.view(np.uint8).reshape(count, CELLS * CELL.itemsize)
    fill = np.full(count, CELLS, dtype=">u2")
    fill[-1] = n - CELLS * (count - 1)
    buf[:, 2:4] = fill.view(np.uint8).reshape(count, 2)
    if count == 1:
        buf[0, 0:2] = np.array([depth], dtype=">u2").view(np.uint8)

    def box(a, pad, reduce):
        padded = np.full(count * CELLS, pad, dtype=np.float32)
        padded[:n] = a
        return reduce(padded.reshape(count, CELLS), axis=1)

    boxes = (box(minx, np.inf, np.min), box(maxx, -np.inf, np.max),
             box(miny, np.inf, np.min), box(maxy, -np.inf, np.max))
    return buf.view(f"V{NODE_BYTES}").ravel().tolist(), boxes


def pack(db: sqlite3.Connection, table: str, ids: np.ndarray, minx: np.ndarray, maxx: np.ndarray,
         miny: np.ndarray, maxy: np.ndarray) -> None:
    """Fill the empty 2-D R-tree ``table`` (created in this file, nothing inserted yet) with the
    boxes of ``ids``; the caller's transaction holds the writes."""
    t = '"' + table.replace('"', '""') + '"'
    ids = np.asarray(ids, dtype=np.int64)
    bx = (down(np.asarray(minx, dtype=np.float64)), up(np.asarray(maxx, dtype=np.float64)),
          down(np.asarray(miny, dtype=np.float64)), up(np.asarray(maxy, dtype=np.float64)))
    node_rows: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    rowids: list[tuple[int, int]] = []
    depth, next_no = 0, 2
    while True:
        order = _str_order((bx[0] + bx[1]) / 2, (bx[2] + bx[3]) / 2)
        ids, bx = ids[order], tuple(b[order] for b in bx)
        blobs, boxes = _nodes(ids, *bx, depth)
        numbers = [1] if len(blobs) == 1 else list(range(next_no, next_no + len(blobs)))
        next_no += len(blobs) if len(blobs) > 1 else 0
        owner = np.repeat(np.asarray(numbers, dtype=np.int64), CELLS)[:len(ids)]
        if depth == 0:  # in key order: the shadow table is then appended to, never split
            by_id = np.argsort(ids, kind="stable")
            rowids = list(zip(ids[by_id].tolist(), owner[by_id].tolist(), strict=True))
        else:
            parents.extend(zip(ids.tolist(), owner.tolist(), strict=True))
        node_rows.extend(zip(numbers, blobs, strict=True))
        if len(blobs) == 1:
            break
        ids, bx, depth = np.asarray(numbers, dtype=np.int64), boxes, depth + 1
    db.execute(f"DELETE FROM {t[:-1]}_node\"")
    db.executemany(f"INSERT INTO {t[:-1]}_node\" (nodeno, data) VALUES (?, ?)", sorted(node_rows))
    db.executemany(f"INSERT INTO {t[:-1]}_rowid\" (rowid, nodeno) VALUES (?, ?)", rowids)
    db.executemany(f"INSERT INTO {t[:-1]}_parent\" (nodeno, parentnode) VALUES (?, ?)", sorted(parents))
