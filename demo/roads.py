"""A connected demo road network in pgRouting form, joining seats, villages, cells and facilities.

The junctions are the town seats, village centres and cell seeds; the links are their relative
neighbourhood graph (a sparse, planar, connected graph that looks like a real rural network),
kept inside the banner. Classes come from what a link joins: the shortest paths between town seats
are national/provincial roads, village-to-seat paths county roads, and so on down to herders'
tracks. Facilities hang off the nearest junction by a short spur.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPoint

from demo.county import County
from demo.places import Place
from geo import tiling

# road class -> (speed km/h, Chinese label): the speeds routing uses when a road has no limit
SPEEDS = {"national": 80, "provincial": 70, "county": 60, "urban": 30, "township": 40, "track": 25}
BACKBONE = [(0, 1, "national", "国道G338线"), (0, 2, "provincial", "省道S216线"),
            (0, 3, "provincial", "省道S313线"), (2, 3, "county", "县道X611线")]
GEOD = Geod(ellps="WGS84")


@dataclass
class Edge:
    """One road link between two junction ids, with its geometry and class."""

    source: int
    target: int
    road_class: str
    name: str
    coords: list[tuple[float, float]]
    length_m: float = 0.0

    @property
    def speed_kmh(self) -> float:
        """Travel speed of the link's class."""
        return SPEEDS[self.road_class]

    @property
    def cost_s(self) -> float:
        """Seconds to drive the link."""
        return self.length_m / (self.speed_kmh / 3.6)


def _dedupe(points: np.ndarray, min_m: float) -> np.ndarray:
    """Indices of points kept so that none is within ``min_m`` of an earlier kept one."""
    scale = np.array([tiling.lon_scale(float(points[:, 1].mean())), tiling.M_PER_DEG_LAT])
    m = points * scale
    tree_pts: list[int] = []
    for i, p in enumerate(m):
        if not tree_pts or np.min(np.hypot(*(m[tree_pts] - p).T)) >= min_m:
            tree_pts.append(i)
    return np.array(tree_pts)


def _relative_neighbourhood(nodes_m: np.ndarray, candidates: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Candidate edges (a, b) with no node closer to both ends than they are to each other."""
    keep = []
    for a, b in candidates:
        d = np.hypot(*(nodes_m[a] - nodes_m[b]))
        da = np.hypot(*(nodes_m - nodes_m[a]).T)
        db = np.hypot(*(nodes_m - nodes_m[b]).T)
        blocking = np.maximum(da, db) < d
        blocking[[a, b]] = False
        if not blocking.any():
            keep.append((a, b))
    return keep


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _spanning_tree(nodes_m: np.ndarray, edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Kruskal's minimum spanning forest over ``edges``."""
    parent = list(range(len(nodes_m)))
    out = set()
    for a, b in sorted(edges, key=lambda e: np.hypot(*(nodes_m[e[0]] - nodes_m[e[1]]))):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[ra] = rb
            out.add((a, b))
    return out


def _shortest_path(adj: dict[int, list[tuple[int, float]]], start: int, goal: int) -> list[int]:
    """Node ids of the shortest path by length (Dijkstra)."""
    dist, prev, heap = {start: 0.0}, {}, [(0.0, start)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == goal:
            break
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            if d + w < dist.get(v, float("inf")):
                dist[v], prev[v] = d + w, u
                heapq.heappush(heap, (d + w, v))
    path = [goal]
    while path[-1] != start:
        path.append(prev[path[-1]])
    return path[::-1]


def _wiggle(rng, a, b, banner, amplitude: float) -> list[tuple[float, float]]:
    """A gently bent line from a to b (straight if the bend would leave the banner)."""
    t = np.linspace(0, 1, 5)[1:-1]
    normal = np.array([-(b[1] - a[1]), b[0] - a[0]])
    offsets = rng.uniform(-amplitude, amplitude, len(t))
    mids = [tuple(np.asarray(a) + (np.asarray(b) - np.asarray(a)) * s + normal * o)
            for s, o in zip(t, offsets, strict=True)]
    coords = [tuple(a), *mids, tuple(b)]
    return coords if banner.contains(LineString(coords)) else [tuple(a), tuple(b)]


def _triangulated_pairs(nodes: np.ndarray, nodes_m: np.ndarray, banner) -> list[tuple[int, int]]:
    """The Delaunay edges between junctions (index pairs, low first) that stay inside the banner."""
    tri = shapely.delaunay_triangles(MultiPoint(nodes_m), only_edges=True)
    ends = shapely.get_coordinates(tri).reshape(-1, 2, 2)
    # endpoints are input points, but compare by distance: GEOS may return them a few ulps off
    ids = np.argmin(((ends.reshape(-1, 1, 2) - nodes_m[None]) ** 2).sum(axis=2), axis=1).reshape(-1, 2)
    return [(min(a, b), max(a, b)) for a, b in ids.tolist() if banner.contains(LineString([nodes[a], nodes[b]]))]


def _junction_of(keep: np.ndarray, point: int) -> int | None:
    """The junction that input point ``point`` became, or None (deduplicated into a neighbour)."""
    hits = np.flatnonzero(keep == point)
    return int(hits[0]) if hits.size else None


def _village_roads(adj: dict[int, list[tuple[int, float]]], towns: list, villages: list,
                   keep: np.ndarray) -> list[tuple[list[int], str]]:
    """Each village junction's shortest path to its town's seat, with its county road's name."""
    town_of = {t.code: i for i, t in enumerate(towns)}
    roads = []
    for i, v in enumerate(villages):
        node = _junction_of(keep, len(towns) + i)
        if node is not None:
            assert v.parent_code is not None  # a village always lies in a town
            roads.append((_shortest_path(adj, node, town_of[v.parent_code]), f"县道({v.name}线)"))
    return roads


def _local_class(key: tuple[int, int], nodes_m: np.ndarray, seat_m: np.ndarray, keep: np.ndarray,
                 seats_and_villages: int) -> tuple[str, str]:
    """A road no route upgraded: urban near a town seat, a township road at a village, else a track."""
    a, b = key
    urban = min(np.hypot(*(seat_m - nodes_m[a]).T).min(), np.hypot(*(seat_m - nodes_m[b]).T).min()) < 2500
    if urban:
        return ("urban", "城区道路")
    is_village = any(k < seats_and_villages for k in (int(keep[a]), int(keep[b])))
    return ("township", "乡道") if is_village else ("track", "牧区便道")


def _spur(place: Place, place_node: int, nodes: np.ndarray, lat0: float, towns: int) -> Edge:
    """The access road from ``place`` (junction id ``place_node``) to its nearest junction."""
    p = np.array([place.lon, place.lat])
    nearest = int(np.argmin(np.hypot(*((nodes - p) * [tiling.lon_scale(lat0), tiling.M_PER_DEG_LAT]).T)))
    return Edge(place_node, nearest + 1, "urban" if nearest < towns else "township",
                f"{place.name}进场路", [(place.lon, place.lat), tuple(nodes[nearest])])


def build_network(rng, county: County, places: list[Place]) -> tuple[np.ndarray, list[Edge]]:
    """Junction coordinates (id = index + 1) and the edges joining them and every place."""
    banner = county.level(1)[0].geom
    shapely.prepare(banner)
    towns, villages, cells = county.level(2), county.level(3), county.level(4)
    raw = np.array([t.centre for t in towns] + [v.centre for v in villages] + [c.centre for c in cells])
    keep = _dedupe(raw, 250.0)  # seats come first, so they always stay junctions
    nodes = raw[keep]
    lat0 = float(nodes[:, 1].mean())
    nodes_m = nodes * np.array([tiling.lon_scale(lat0), tiling.M_PER_DEG_LAT])

    candidates = _triangulated_pairs(nodes, nodes_m, banner)
    chosen = set(_relative_neighbourhood(nodes_m, candidates)) | _spanning_tree(nodes_m, candidates)

    adj: dict[int, list[tuple[int, float]]] = {i: [] for i in range(len(nodes))}
    for a, b in chosen:
        w = float(np.hypot(*(nodes_m[a] - nodes_m[b])))
        adj[a].append((b, w))
        adj[b].append((a, w))
    road_class: dict[tuple[int, int], tuple[str, str]] = {}
    rank = list(SPEEDS)

    def upgrade(path: list[int], cls: str, name: str) -> None:
        for a, b in pairwise(path):
            key = (min(a, b), max(a, b))
            if key not in road_class or rank.index(cls) < rank.index(road_class[key][0]):
                road_class[key] = (cls, name)

    for a, b, cls, name in BACKBONE:
        upgrade(_shortest_path(adj, a, b), cls, name)
    for path, name in _village_roads(adj, towns, villages, keep):
        upgrade(path, "county", name)
    seat_m = nodes_m[: len(towns)]
    for key in chosen:
        if key not in road_class:
            road_class[key] = _local_class(key, nodes_m, seat_m, keep, len(towns) + len(villages))

    edges = []
    for (a, b), (cls, name) in sorted(road_class.items()):
        coords = ([tuple(nodes[a]), tuple(nodes[b])] if cls in ("national", "provincial", "urban")
                  else _wiggle(rng, nodes[a], nodes[b], banner, 0.04))
        edges.append(Edge(a + 1, b + 1, cls, name, coords))

    all_nodes = [tuple(p) for p in nodes]
    for place in places:  # a spur from each facility to its nearest junction
        all_nodes.append((place.lon, place.lat))
        edges.append(_spur(place, len(all_nodes), nodes, lat0, len(towns)))
    for e in edges:
        e.length_m = max(1.0, float(GEOD.geometry_length(LineString(e.coords))))  # pgRouting wants > 0
    return np.array(all_nodes), edges
