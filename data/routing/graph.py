"""The warm in-memory road graph of a region: shortest paths with ``scipy.sparse.csgraph.dijkstra``
on a CSR matrix, with pgRouting's answers (the reference; ``route.py`` keeps that path too).

Each server process holds its own graphs, at most ``MAX_GRAPHS`` regions (least recently used
out). A graph is loaded with the region's road network version (``road_network``, 0034, bumped
by a statement trigger on ``road_edge`` in the same transaction as the change); each route reads
the current version first (one indexed row) and a different version reloads the graph before
routing. So a process never routes on roads older than the request. Ends are snapped in memory
too (an STRtree, the same nearest points as ``route_snap``), so a route makes that one query.

Mid-edge ends without splitting the graph: node ``n`` (after the n junctions) is a virtual source
whose two arcs, rewritten per query, lead to the snapped edge's ends at their share of its costs;
the target end is added afterwards from the distances to its edge's two ends. The costs are those
of pgRouting on the split graph (``route_graph`` in 0006): a piece costs the edge's cost times its
share, one-way edges stay one-way (a negative cost is no arc).

Memory per region (documented in README *Routing*): per edge 8 float64/int64 columns and two
arcs each way (forward and reverse CSR: int32 index, float64 weight, int32 edge, bool direction),
≈ 110 bytes an edge, plus its coordinates at 16 bytes a vertex of the line, plus names as Python
strings and an STRtree for snapping; networks of at most ``APSP_MAX`` junctions add an all-pairs
table of n² × 16 bytes (≤ 16 MB). Measured (``Graph.nbytes``): the 730-edge demo network 5.6 MB
(of it 5.4 MB all-pairs), a 100k-edge grid 15 MB; with ``MAX_GRAPHS`` regions at most 8 × that.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from db.core import sql

MAX_GRAPHS = 8  # regions held per process; the least recently used is dropped
APSP_MAX = 1000  # up to this many junctions, every pair's time is computed at load (n² × 16 bytes: ≤ 16 MB)


@dataclass
class Arcs:
    """A CSR adjacency over n junctions plus the virtual node n (its two arcs last)."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray
    edge: np.ndarray  # the edge row each arc runs along
    forward: np.ndarray  # True: along the edge's drawing direction (source → target)

    def matrix(self, n: int) -> csr_matrix:
        """The CSR matrix for scipy (shares the arrays; the caller has set the virtual arcs)."""
        return csr_matrix((self.weight, self.indices, self.indptr), shape=(n + 1, n + 1))


@dataclass
class Graph:
    """One region's road network at one version: edges by row, junction indices and both CSRs."""

    version: int | None
    ids: np.ndarray  # edge id per row
    src: np.ndarray  # junction index of the edge's source
    tgt: np.ndarray
    cost: np.ndarray
    rcost: np.ndarray
    length: np.ndarray
    names: list
    classes: list
    coords: np.ndarray  # all edges' lon/lat, edge k's at coords[off[k]:off[k + 1]]
    off: np.ndarray
    row_of: dict  # edge id → row
    junctions: np.ndarray  # vertex id per junction index (sorted)
    n: int  # junctions
    fwd: Arcs
    rev: Arcs
    apsp: tuple[np.ndarray, np.ndarray] | None = None  # small networks: all-pairs seconds and predecessors
    best_arc: np.ndarray | None = None  # small networks: the cheapest forward arc u → v (-1: none)
    lines: np.ndarray | None = None  # the edges as shapely lines, and their index, for snapping
    tree: shapely.STRtree | None = None

    def nbytes(self) -> int:
        """Bytes held by the arrays (names and the id dict not counted)."""
        arrays = [self.ids, self.src, self.tgt, self.cost, self.rcost, self.length, self.coords, self.off]
        for a in (self.fwd, self.rev):
            arrays += [a.indptr, a.indices, a.weight, a.edge, a.forward]
        arrays += list(self.apsp or ()) + ([self.best_arc] if self.best_arc is not None else [])
        return int(sum(x.nbytes for x in arrays))


def _arcs(n: int, tails, heads, weight, edge, forward) -> Arcs:
    """CSR arcs grouped by tail, with two spare slots for the virtual node n at the end."""
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(n + 2, dtype=np.int32)
    indptr[1:n + 1] = np.cumsum(np.bincount(tails, minlength=n))
    indptr[n + 1] = indptr[n] + 2
    pad_i = np.array([n, n], dtype=np.int32)
    return Arcs(indptr=indptr,
                indices=np.concatenate([heads[order].astype(np.int32), pad_i]),
                weight=np.concatenate([weight[order], [0.0, 0.0]]),
                edge=np.concatenate([edge[order].astype(np.int32), np.array([-1, -1], dtype=np.int32)]),
                forward=np.concatenate([forward[order], [True, True]]))


def build(version: int | None, rows: list[tuple]) -> Graph:
    """A graph from (id, source, target, cost, reverse_cost, length_m, name, road_class, wkb) rows."""
    m = len(rows)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=m)
    ends = np.fromiter((v for r in rows for v in (r[1], r[2])), dtype=np.int64, count=2 * m)
    junctions, idx = np.unique(ends, return_inverse=True)
    src, tgt = idx[0::2].astype(np.int32), idx[1::2].astype(np.int32)
    cost = np.fromiter((r[3] for r in rows), dtype=np.float64, count=m)
    rcost = np.fromiter((r[4] for r in rows), dtype=np.float64, count=m)
    length = np.fromiter((r[5] for r in rows), dtype=np.float64, count=m)
    geoms = shapely.from_wkb([bytes(r[8]) for r in rows])
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    off = np.zeros(m + 1, dtype=np.int64)
    off[1:] = np.cumsum(np.bincount(which, minlength=m))
    n = len(junctions)
    rows_k = np.arange(m, dtype=np.int32)
    f, r = cost >= 0, rcost >= 0  # pgRouting: a negative cost means no way in that direction
    tails = np.concatenate([src[f], tgt[r]])
    heads = np.concatenate([tgt[f], src[r]])
    weight = np.concatenate([cost[f], rcost[r]])
    edge = np.concatenate([rows_k[f], rows_k[r]])
    forward = np.concatenate([np.ones(f.sum(), bool), np.zeros(r.sum(), bool)])
    g = Graph(version=version, ids=ids, src=src, tgt=tgt, cost=cost, rcost=rcost, length=length,
              names=[r[6] for r in rows], classes=[r[7] for r in rows], coords=coords, off=off,
              row_of={int(e): k for k, e in enumerate(ids)}, junctions=junctions, n=n,
              fwd=_arcs(n, tails, heads, weight, edge, forward),
              rev=_arcs(n, heads, tails, weight, edge, forward))
    g.lines = geoms
    g.tree = shapely.STRtree(geoms)
    if 0 < n <= APSP_MAX:
        dist, pred = dijkstra(g.fwd.matrix(n), directed=True, indices=np.arange(n), return_predecessors=True)
        g.apsp = (dist[:, :n].copy(), pred[:, :n].astype(np.int32))
        a = g.fwd
        tails = np.repeat(np.arange(n + 1, dtype=np.int32), np.diff(a.indptr))[:-2]
        order = np.argsort(-a.weight[:-2], kind="stable")  # the cheapest written last
        g.best_arc = np.full((n, n), -1, dtype=np.int32)
        g.best_arc[tails[order], a.indices[:-2][order]] = order.astype(np.int32)
    return g


_graphs: OrderedDict[tuple, Graph] = OrderedDict()
_lock = threading.Lock()
_search_lock = threading.Lock()  # a search writes the virtual node's two arcs of the shared arrays


def _key(conn, region: str) -> tuple:
    info = conn.info
    return (info.host, info.port, info.dbname, region)


def load(conn, region: str) -> Graph:
    """The region's graph read from the database now (not cached)."""
    with conn.cursor() as cur:
        cur.execute(sql("route_graph_load"), {"region": region})
        rows = cur.fetchall()
    version = rows[0][0] if rows else None
    return build(version, [r[1:] for r in rows])


def current(conn, region: str, version: int | None) -> Graph:
    """The process's graph of ``region`` at ``version`` (the snap query's), loaded if it holds another."""
    key = _key(conn, region)
    with _lock:
        g = _graphs.get(key)
        if g is not None and g.version == version and version is not None:
            _graphs.move_to_end(key)
            return g
    g = load(conn, region)
    with _lock:
        _graphs[key] = g
        _graphs.move_to_end(key)
        while len(_graphs) > MAX_GRAPHS:
            _graphs.popitem(last=False)
    return g


def version_of(conn, region: str) -> int | None:
    """The region's road network version now (None: it never had roads)."""
    with conn.cursor() as cur:
        cur.execute(sql("route_network_version"), {"region": region})
        row = cur.fetchone()
    return row[0] if row else None


def cached() -> dict[tuple, int | None]:
    """(host, port, database, region) → version of the graphs this process holds."""
    with _lock:
        return {k: g.version for k, g in _graphs.items()}


# -- snapping ------------------------------------------------------------------------------------

GEOD = Geod(ellps="WGS84")


@dataclass
class Snapped:
    """A point's nearest point on the roads: the edge row, fraction along it, geodesic metres, lon/lat."""

    row: int
    frac: float
    dist_m: float
    lon: float
    lat: float


def _unit(lon, lat) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _geodesic_to_lines(lines: np.ndarray, lon: float, lat: float) -> np.ndarray:
    """Metres from a point to each line as geography ST_Distance measures them: segments are
    great-circle arcs, the nearest point is found on the sphere, its distance is the spheroid's."""
    coords, which = shapely.get_coordinates(lines, return_index=True)
    same = which[1:] == which[:-1]
    a, b = _unit(coords[:-1, 0], coords[:-1, 1])[same], _unit(coords[1:, 0], coords[1:, 1])[same]
    seg_line = which[:-1][same]
    p = _unit(lon, lat)
    n = np.cross(a, b)
    norm = np.linalg.norm(n, axis=1)
    ok = norm > 1e-15
    n[ok] /= norm[ok, None]
    c = p - (n @ p)[:, None] * n
    c /= np.maximum(np.linalg.norm(c, axis=1), 1e-300)[:, None]
    inside = ok & (np.einsum("ij,ij->i", np.cross(a, c), n) >= 0) & (np.einsum("ij,ij->i", np.cross(c, b), n) >= 0)
    end = np.where(((a @ p) >= (b @ p))[:, None], a, b)  # the nearer end (larger cosine)
    near = np.where(inside[:, None], c, end)
    lons = np.degrees(np.arctan2(near[:, 1], near[:, 0]))
    lats = np.degrees(np.arcsin(np.clip(near[:, 2], -1.0, 1.0)))
    d = np.asarray(GEOD.inv(np.full(len(lons), lon), np.full(len(lons), lat), lons, lats)[2])
    out = np.full(len(lines), np.inf)
    np.minimum.at(out, seg_line, d)
    return out


def snap(g: Graph, points: list[tuple[float, float]]) -> list[Snapped | None]:
    """Each point's nearest point on the graph's edges, as ``route_snap`` finds it in SQL: the
    point of the edge nearest in the lon/lat plane (ST_LineLocatePoint / ST_ClosestPoint), the
    edge whose such point is geodesically nearest (ties: the lower edge id). Candidates are every
    edge within the planar radius that can hold a geodesically nearer point than the planar nearest."""
    if g.tree is None or g.lines is None or not len(g.ids):
        return [None for _ in points]
    out: list[Snapped | None] = []
    for lon, lat in points:
        pt = shapely.Point(lon, lat)
        _, d0 = g.tree.query_nearest(pt, return_distance=True)
        reach = float(d0[0]) / max(0.05, np.cos(np.radians(min(89.0, abs(lat) + float(d0[0]))))) * (1 + 1e-9)
        rows = g.tree.query(pt, predicate="dwithin", distance=reach + 1e-12)
        lines = g.lines[rows]
        fracs = shapely.line_locate_point(lines, pt, normalized=True)  # ST_LineLocatePoint: planar
        xy = shapely.get_coordinates(shapely.line_interpolate_point(lines, fracs, normalized=True))
        dist = _geodesic_to_lines(lines, lon, lat)
        best = min(range(len(rows)), key=lambda i: (round(float(dist[i]), 6), int(g.ids[rows[i]])))
        out.append(Snapped(int(rows[best]), float(fracs[best]), float(dist[best]),
                           float(xy[best, 0]), float(xy[best, 1])))
    return out


# -- searches -------------------------------------------------------------------------------------

@dataclass
class End:
    """A point on an edge: its row and the fraction along the drawing direction."""

    row: int
    frac: float


@dataclass
class Path:
    """A shortest path: its cost in seconds and its pieces (edge row, forward?, f0, f1) in driving order."""

    cost: float
    pieces: list[tuple[int, bool, float, float]]


def _leave(g: Graph, e: End) -> list[tuple[int, float, bool]]:
    """The arcs from a point on an edge to the edge's ends: (junction, seconds, forward?)."""
    k, f = e.row, min(max(e.frac, 0.0), 1.0)
    out = []
    if g.cost[k] >= 0:
        out.append((int(g.tgt[k]), float(g.cost[k] * (1.0 - f)), True))
    if g.rcost[k] >= 0:
        out.append((int(g.src[k]), float(g.rcost[k] * f), False))
    return out


def _arrive(g: Graph, e: End) -> list[tuple[int, float, bool]]:
    """The arcs from the edge's ends into a point on it: (junction, seconds, forward?)."""
    k, f = e.row, min(max(e.frac, 0.0), 1.0)
    out = []
    if g.cost[k] >= 0:
        out.append((int(g.src[k]), float(g.cost[k] * f), True))
    if g.rcost[k] >= 0:
        out.append((int(g.tgt[k]), float(g.rcost[k] * (1.0 - f)), False))
    return out


def _direct(g: Graph, a: End, b: End) -> tuple[float, bool] | None:
    """Along the one edge both points lie on, without leaving it: (seconds, forward?)."""
    if a.row != b.row:
        return None
    k = a.row
    fa, fb = min(max(a.frac, 0.0), 1.0), min(max(b.frac, 0.0), 1.0)
    best = None
    if fb >= fa and g.cost[k] >= 0:
        best = (float(g.cost[k] * (fb - fa)), True)
    if fb <= fa and g.rcost[k] >= 0:
        c = float(g.rcost[k] * (fa - fb))
        if best is None or c < best[0]:
            best = (c, False)
    return best


def _search(g: Graph, arcs: Arcs, firsts: list[tuple[int, float, bool]]):
    """Seconds from the virtual node linked to ``firsts`` to every junction, and the chain of
    junctions to one of them (first after the virtual node … that one)."""
    dist, pred = _dijkstra(g, arcs, firsts)
    return dist, lambda j: _chain(pred, g.n, j)


def _dijkstra(g: Graph, arcs: Arcs, firsts: list[tuple[int, float, bool]]):
    """Dijkstra from the virtual node n linked to ``firsts``: distances and predecessors."""
    slots = slice(arcs.indptr[g.n], arcs.indptr[g.n] + 2)
    heads = [j for j, _, _ in firsts] + [g.n] * (2 - len(firsts))
    weights = [w for _, w, _ in firsts] + [0.0] * (2 - len(firsts))
    with _search_lock:
        arcs.indices[slots] = heads
        arcs.weight[slots] = weights
        dist, pred = dijkstra(arcs.matrix(g.n), directed=True, indices=g.n, return_predecessors=True)
    return dist, pred


def _arc(g: Graph, arcs: Arcs, u: int, v: int) -> int:
    """The cheapest arc u → v (parallel roads: the one Dijkstra's distance used)."""
    lo, hi = arcs.indptr[u], arcs.indptr[u + 1]
    cand = np.nonzero(arcs.indices[lo:hi] == v)[0]
    return int(lo + cand[np.argmin(arcs.weight[lo + cand])])


def _chain(pred, n: int, last: int) -> list[int]:
    """The junctions from the first after the virtual node to ``last``."""
    nodes = [last]
    while True:
        p = int(pred[nodes[-1]])
        if p == n or p < 0:
            break
        nodes.append(p)
    return nodes[::-1]


def _middle(g: Graph, arcs: Arcs, nodes: list[int], reverse: bool) -> list[tuple[int, bool, float, float]]:
    """Whole-edge pieces between consecutive junctions (of the reverse search: turned to driving order)."""
    pieces = []
    for u, v in zip(nodes, nodes[1:], strict=False):
        a = int(g.best_arc[u, v]) if g.best_arc is not None and arcs is g.fwd else _arc(g, arcs, u, v)
        pieces.append((int(arcs.edge[a]), bool(arcs.forward[a]), 0.0, 1.0))
    return pieces[::-1] if reverse else pieces


def _piece(row: int, forward: bool, f0: float, f1: float) -> tuple[int, bool, float, float]:
    lo, hi = sorted((min(max(f0, 0.0), 1.0), min(max(f1, 0.0), 1.0)))
    return (row, forward, lo, hi)


def _best(dist, direct: tuple[float, bool] | None,
          links: list[tuple[int, float, bool]]) -> tuple[float, tuple[int, bool] | None] | None:
    """The cheapest of the direct way (via None) and each link (junction, seconds, forward?) plus its distance."""
    best: tuple[float, tuple[int, bool] | None] | None = None if direct is None else (direct[0], None)
    for j, w, fw in links:
        c = float(dist[j]) + w
        if np.isfinite(c) and (best is None or c < best[0]):
            best = (c, (j, fw))
    return best


def _shortest_apsp(g: Graph, a: End, b: End, leave, direct) -> Path | None:
    """``shortest`` from the all-pairs table: only the (at most four) end-to-end pairs are read."""
    assert g.apsp is not None
    table, pred = g.apsp
    best: tuple[float, tuple[int, bool, int, bool] | None] | None = None if direct is None else (direct[0], None)
    for ja, wa, fa in leave:
        row = table[ja]
        for jb, wb, fb in _arrive(g, b):
            c = wa + float(row[jb]) + wb
            if math.isfinite(c) and (best is None or c < best[0]):
                best = (c, (ja, fa, jb, fb))
    if best is None:
        return None
    cost, via = best
    if via is None:
        assert direct is not None
        return Path(cost, [_piece(a.row, direct[1], a.frac, b.frac)])
    ja, fa, jb, fb = via
    nodes = [jb]
    while nodes[-1] != ja:
        nodes.append(int(pred[ja, nodes[-1]]))
    return _forward_path(g, a, b, cost, fa, nodes[::-1], fb)


def _forward_path(g: Graph, a: End, b: End, cost: float, fa: bool, nodes: list[int], fb: bool) -> Path:
    """The path from ``a`` off its edge (direction ``fa``) through junctions ``nodes`` onto ``b``'s edge."""
    pieces = [_piece(a.row, fa, a.frac, 1.0 if fa else 0.0)]
    pieces += _middle(g, g.fwd, nodes, reverse=False)
    pieces.append(_piece(b.row, fb, 0.0 if fb else 1.0, b.frac))
    return Path(cost, pieces)


def shortest(g: Graph, a: End, b: End) -> Path | None:
    """The fastest path from point ``a`` to point ``b`` (None: not connected)."""
    leave = _leave(g, a)
    if g.apsp is not None:
        return _shortest_apsp(g, a, b, leave, _direct(g, a, b))
    dist, chain = _search(g, g.fwd, leave)
    direct = _direct(g, a, b)
    best = _best(dist, direct, _arrive(g, b))
    if best is None:
        return None
    cost, via = best
    if via is None:
        assert direct is not None
        return Path(cost, [_piece(a.row, direct[1], a.frac, b.frac)])
    j, fw_end = via
    nodes = chain(j)
    start = min((x for x in leave if x[0] == nodes[0]), key=lambda x: x[1])
    return _forward_path(g, a, b, cost, start[2], nodes, fw_end)


def to_one(g: Graph, starts: list[End], b: End) -> list[Path | None]:
    """The fastest path from each of ``starts`` to ``b``, from one search on the reversed graph."""
    if g.apsp is not None:  # every pair is known already
        return [shortest(g, a, b) for a in starts]
    arrive = _arrive(g, b)
    dist, chain = _search(g, g.rev, arrive)
    out: list[Path | None] = []
    for a in starts:
        direct = _direct(g, a, b)
        best = _best(dist, direct, _leave(g, a))
        if best is None:
            out.append(None)
            continue
        cost, via = best
        if via is None:
            assert direct is not None
            out.append(Path(cost, [_piece(a.row, direct[1], a.frac, b.frac)]))
            continue
        j, fw_start = via
        nodes = chain(j)  # from the junction next to b back to j: reversed driving order
        end = min((x for x in arrive if x[0] == nodes[0]), key=lambda x: x[1])
        pieces = [_piece(a.row, fw_start, a.frac, 1.0 if fw_start else 0.0)]
        pieces += _middle(g, g.rev, nodes, reverse=True)
        pieces.append(_piece(b.row, end[2], 0.0 if end[2] else 1.0, b.frac))
        out.append(Path(cost, pieces))
    return out


# -- what a path is made of -------------------------------------------------------------------------

def substring(line: np.ndarray, f0: float, f1: float) -> np.ndarray:
    """The part of a lon/lat line between fractions f0 ≤ f1 of its planar length (ST_LineSubstring)."""
    seg = np.hypot(np.diff(line[:, 0]), np.diff(line[:, 1]))
    total = float(seg.sum())
    if total == 0.0:
        return line[[0, 0]]
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    d0, d1 = f0 * total, f1 * total
    x = np.interp([d0, d1], cum, line[:, 0])
    y = np.interp([d0, d1], cum, line[:, 1])
    inner = line[(cum > d0) & (cum < d1)]
    return np.vstack([[x[0], y[0]], inner, [x[1], y[1]]])


def piece_parts(g: Graph, piece: tuple[int, bool, float, float]) -> tuple:
    """(edge id, name, road class, metres, seconds, coordinates in driving order) of one piece."""
    k, forward, f0, f1 = piece
    share = f1 - f0
    line = g.coords[g.off[k]:g.off[k + 1]]
    part = line if f0 <= 0.0 and f1 >= 1.0 else substring(line, f0, f1)
    if not forward:
        part = part[::-1]
    seconds = (g.cost[k] if forward else g.rcost[k]) * share
    return (int(g.ids[k]), g.names[k], g.classes[k], float(g.length[k] * share), float(seconds),
            [tuple(c) for c in part.tolist()])
