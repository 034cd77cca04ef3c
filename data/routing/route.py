"""Routes between two ends and the dispatch suggestion, on pgRouting in the same database.

Snapping: each end goes to the nearest point of the nearest edge (``route_snap``); the edges it
lands on are split there *virtually* in the edge query (``route_graph``/``route_pieces`` in
migration 0006), so a route starts and ends mid-edge and keeps one-way edges one-way. This is
what ``pgr_withPoints`` does, but that function is "proposed" in pgRouting 3.4, and doing it in
our own SQL also gives the pieces' geometry for the path. An end off the road is answered with
its distance to the road (``snap_m``) and routed from the road; the off-road leg is timed at
``OFFROAD_KMH``.

Bounded edge query: a route reads only the edges in a box around its two ends, grown when no
path is found inside, and the whole region only as a last try — the box that fails last proves
the ends are not connected.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from data import incidents
from data.policy import worker_out
from data.routing import MAX_SNAP_M, OFFROAD_KMH, Invalid, NotFound, Unreachable, graph
from data.routing.turns import Piece, instructions
from db.core import sql
from domain import policy

M_PER_DEG = 111_320.0
ON_DUTY = timedelta(hours=2)  # a worker with a fix this recent is taken to be on duty
PREFILTER = 40  # responders routed by road: the nearest this many in a straight line
ORIGIN_KINDS = ("facility", "department", "worker")


@dataclass
class End:
    """A route end: where it is and what it is."""

    lon: float
    lat: float
    label: str
    kind: str = "point"
    ref: str | None = None
    extra: dict | None = None

    def describe(self) -> dict:
        """The end as JSON."""
        return {"kind": self.kind, "ref": self.ref, "label": self.label, "lon": self.lon, "lat": self.lat,
                **(self.extra or {})}


@dataclass
class Snap:
    """An end snapped onto an edge: the edge, the fraction along it, the distance and the point."""

    edge: int
    frac: float
    dist_m: float
    lon: float
    lat: float


def _point(text: str, field: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lon, lat = float(parts[0]), float(parts[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError
    except ValueError:
        raise Invalid(f"bad {field}", {field: "lon,lat in WGS84 degrees, or kind:id"}) from None
    return lon, lat


ORIGIN_FORMS = "lon,lat | facility:<id> | department:<code> | worker:<id>"


def _facility_end(cur, actor, ref: str, field: str) -> End:
    if not ref.isdigit():
        raise Invalid("bad facility id", {field: "facility:<numeric id>"})
    cur.execute(sql("route_facility"), {"id": int(ref), "region": actor.region_code})
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no facility {ref} in region {actor.region_code}")
    return End(row[3], row[4], row[2], "facility", str(row[0]), {"facility_kind": row[1]})


def _department_end(cur, actor, ref: str, field: str) -> End:
    cur.execute(sql("route_department"), {"code": ref, "region": actor.region_code})
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no department {ref} in region {actor.region_code}")
    if row[3] is None:
        raise Invalid(f"department {ref} has no base location", {field: "the department has no base"})
    return End(row[3], row[4], row[2], "department", row[0], {"department_kind": row[1]})


def _worker_end(cur, actor, ref: str, field: str) -> End:
    if not ref.isdigit():
        raise Invalid("bad worker id", {field: "worker:<numeric id>"})
    cur.execute(sql("route_worker"), {"id": int(ref), "region": actor.region_code, "scope": actor.unit_code})
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no grid worker {ref} in your jurisdiction")
    if row[3] is None:
        raise Invalid(f"grid worker {ref} has no GPS fix yet", {field: "the worker has never sent a position"})
    label = worker_out(actor, {"ref": str(row[0]), "label": row[1]})["label"]
    return End(row[4], row[5], label, "worker", str(row[0]), {"fix_at": row[3].isoformat()})


_ORIGIN_KINDS = {"facility": _facility_end, "department": _department_end, "worker": _worker_end}


def resolve_origin(conn, actor, text: str | None, field: str = "from") -> End:
    """An origin from 'lon,lat', 'facility:<id>', 'department:<code>' or 'worker:<id>'."""
    if not text:
        raise Invalid(f"{field} is required", {field: ORIGIN_FORMS})
    kind, _, ref = text.partition(":")
    if not ref:
        lon, lat = _point(text, field)
        return End(lon, lat, "起点" if field == "from" else "终点")
    resolve = _ORIGIN_KINDS.get(kind)
    if resolve is None:
        raise Invalid(f"unknown {field} kind {kind!r}", {field: ORIGIN_FORMS})
    with conn.cursor() as cur:
        return resolve(cur, actor, ref, field)


def resolve_destination(conn, actor, text: str | None, now: datetime | None = None) -> End:
    """A destination from 'lon,lat' or 'incident:<uuid>' (which must be in the caller's jurisdiction)."""
    if not text:
        raise Invalid("to is required", {"to": "lon,lat | incident:<uuid>"})
    kind, _, ref = text.partition(":")
    if kind == "incident":
        try:
            incident_id = uuid.UUID(ref)
        except ValueError:
            raise Invalid("bad incident id", {"to": "incident:<uuid>"}) from None
        return incident_end(incidents.fetch(conn, actor, incident_id, now=now))
    if ref:
        raise Invalid(f"unknown destination kind {kind!r}", {"to": "lon,lat | incident:<uuid>"})
    lon, lat = _point(text, "to")
    return End(lon, lat, "终点")


def incident_end(item: dict) -> End:
    """An incident (as ``incidents.get`` returns it) as a route end."""
    return End(item["lon"], item["lat"], f"事发地点（{item['category_name']}）", "incident", str(item["id"]),
               {"category": item["category"]})


def snap(conn, region: str, points: list[tuple[float, float]]) -> list[Snap | None]:
    """Each point's nearest point on the region's roads (None when the region has no roads)."""
    with conn.cursor() as cur:
        cur.execute(sql("route_snap"), {"lons": [p[0] for p in points], "lats": [p[1] for p in points],
                                        "region": region})
        rows = cur.fetchall()
    return [None if r[1] is None else Snap(r[1], r[2], r[3], r[4], r[5]) for r in rows]


def _check_snaps(ends: list[End], snaps: list[Snap | None], max_snap_m: float) -> list[Snap]:
    """The snaps of ``ends``, each a road within ``max_snap_m``; else Invalid naming the end."""
    checked = []
    for end, s in zip(ends, snaps, strict=True):
        if s is None:
            raise Invalid("this region has no road network", {"region": "import roads first (onemap roads import)"})
        if s.dist_m > max_snap_m:
            raise Invalid(f"{end.label}附近{max_snap_m / 1000:g}公里内没有道路 "
                          f"(nearest road {s.dist_m / 1000:.1f} km away)",
                          {"from" if end.kind != "incident" else "to": f"no road within {max_snap_m / 1000:g} km"},
                          snap_m=round(s.dist_m, 1))
        checked.append(s)
    return checked


def edges_sql(cur, region: str, snaps: list[dict], links: list[dict] | None = None,
              bbox: tuple[float, float, float, float] | None = None, reverse: bool = False) -> str:
    """The edge query text for pgRouting, values bound by the driver (never by formatting)."""
    xmin, ymin, xmax, ymax = bbox or (None, None, None, None)
    return cur.mogrify(sql("route_edges"), {
        "region": region, "xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax,
        "snaps": json.dumps(snaps), "links": json.dumps(links or []), "reverse": reverse}).decode()


def _box(points: list[tuple[float, float]], margin_m: float) -> tuple[float, float, float, float]:
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    dy = margin_m / M_PER_DEG
    dx = margin_m / (M_PER_DEG * max(0.1, math.cos(math.radians(max(map(abs, lats))))))
    return min(lons) - dx, min(lats) - dy, max(lons) + dx, max(lats) + dy


def _boxes(a: Snap, b: Snap):
    """Ever larger boxes around both ends, then None (the whole region)."""
    span = math.hypot((a.lon - b.lon) * M_PER_DEG * math.cos(math.radians(a.lat)), (a.lat - b.lat) * M_PER_DEG)
    margin = max(3000.0, 0.5 * span)
    for grow in (1, 4):
        yield _box([(a.lon, a.lat), (b.lon, b.lat)], margin * grow)
    yield None


def _coords(geojson: dict) -> list[tuple[float, float]]:
    # a zero-length piece (an end exactly on a junction) comes back from ST_LineSubstring as a Point
    if geojson["type"] == "Point":
        return [tuple(geojson["coordinates"])] * 2
    return [tuple(c) for c in geojson["coordinates"]]


ENGINES = ("memory", "pgrouting")


def _pieces_pgrouting(conn, region: str, a: Snap, b: Snap) -> list[Piece]:
    """The path's pieces by ``pgr_dijkstra`` on the bounded edge query (the reference)."""
    snaps = [{"vid": -1, "edge": a.edge, "frac": a.frac}, {"vid": -2, "edge": b.edge, "frac": b.frac}]
    rows: list[tuple] = []
    with conn.cursor() as cur:
        for bbox in _boxes(a, b):
            cur.execute(sql("route_path"), {"edges_sql": edges_sql(cur, region, snaps, bbox=bbox),
                                            "start": -1, "end": -2, "snaps": json.dumps(snaps)})
            rows = cur.fetchall()
            if rows:
                break
    return [Piece(r[2], r[3], r[5], r[4], _coords(json.loads(r[6]))) for r in rows]


def snap_memory(g: graph.Graph, points: list[tuple[float, float]]) -> list[Snap | None]:
    """``snap`` on the in-memory graph: no query (the same nearest points as ``route_snap``)."""
    return [None if s is None else Snap(int(g.ids[s.row]), s.frac, s.dist_m, s.lon, s.lat)
            for s in graph.snap(g, points)]


def region_graph(conn, region: str) -> graph.Graph:
    """The process's current in-memory graph of the region (one version query; reloaded if changed)."""
    return graph.current(conn, region, graph.version_of(conn, region))


def _pieces_memory(g: graph.Graph, a: Snap, b: Snap) -> list[Piece]:
    """The path's pieces from the in-memory graph of the region (``graph``)."""
    path = graph.shortest(g, graph.End(g.row_of[a.edge], a.frac), graph.End(g.row_of[b.edge], b.frac))
    if path is None:
        return []
    out = []
    for piece in path.pieces:
        _, name, road_class, metres, seconds, coords = graph.piece_parts(g, piece)
        out.append(Piece(name, road_class, metres, seconds, coords))
    return out


def route(conn, region: str, origin: End, dest: End, max_snap_m: float = MAX_SNAP_M,
          engine: str = "memory") -> dict:
    """The fastest route from ``origin`` to ``dest`` as a GeoJSON Feature with time, length and turns.
    ``engine``: the in-memory graph (default) or pgRouting (the reference, same answer)."""
    ends = [(origin.lon, origin.lat), (dest.lon, dest.lat)]
    if engine == "memory":
        g = region_graph(conn, region)
        a, b = _check_snaps([origin, dest], snap_memory(g, ends), max_snap_m)
        pieces = _pieces_memory(g, a, b)
    elif engine == "pgrouting":
        a, b = _check_snaps([origin, dest], snap(conn, region, ends), max_snap_m)
        pieces = _pieces_pgrouting(conn, region, a, b)
    else:
        raise ValueError(f"engine is one of {ENGINES}")
    if not pieces:
        raise Unreachable(f"{origin.label}与{dest.label}所在路网不连通 (the two ends are on road networks "
                          "that do not connect)", snap_m={"from": round(a.dist_m, 1), "to": round(b.dist_m, 1)})
    road_s = sum(p.seconds for p in pieces)
    length = sum(p.length_m for p in pieces)
    offroad_m = a.dist_m + b.dist_m
    offroad_s = offroad_m / (OFFROAD_KMH / 3.6)
    coords: list[tuple[float, float]] = [(origin.lon, origin.lat)] if a.dist_m > 0.5 else []
    for p in pieces:
        for c in p.coords:
            if not coords or coords[-1] != c:
                coords.append(c)
    if b.dist_m > 0.5:
        coords.append((dest.lon, dest.lat))
    if len(coords) == 1:
        coords.append(coords[0])
    return {"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[round(x, 7), round(y, 7)] for x, y in coords]},
            "properties": {
                "from": origin.describe() | {"snap_m": round(a.dist_m, 1), "snapped": [a.lon, a.lat]},
                "to": dest.describe() | {"snap_m": round(b.dist_m, 1), "snapped": [b.lon, b.lat]},
                "length_m": round(length, 1), "travel_s": round(road_s, 1),
                "offroad_m": round(offroad_m, 1), "offroad_s": round(offroad_s, 1),
                "total_s": round(road_s + offroad_s, 1), "minutes": round((road_s + offroad_s) / 60, 1),
                "offroad_kmh": OFFROAD_KMH,
                "steps": instructions(pieces, origin.label, dest.label, a.dist_m, b.dist_m)}}


def route_for(conn, actor, origin_text: str | None, dest_text: str | None, now: datetime | None = None) -> dict:
    """``route`` from API-style end descriptions, with the caller's jurisdiction applied."""
    dest = resolve_destination(conn, actor, dest_text, now=now)
    origin = resolve_origin(conn, actor, origin_text)
    return route(conn, actor.region_code, origin, dest)


def _shown(actor, entry: dict) -> dict:
    """A candidate as the caller may see it: a grid worker's name masked unless the role sees staff names."""
    return worker_out(actor, entry) if entry["kind"] == "worker" else entry


def _costs_pgrouting(conn, region: str, site: End, snaps: list, vsnaps: list[dict],
                     starts: dict[int, tuple[int, Snap]]) -> dict[int, tuple[float, float]]:
    """Seconds and metres from each start to the site by one many-to-one ``pgr_dijkstra`` (the reference)."""
    costs: dict[int, tuple[float, float]] = {}
    if not starts:
        return costs
    pts = [(site.lon, site.lat)] + [(s.lon, s.lat) for s in snaps[1:] if s is not None]
    bbox = _box(pts, 5000.0)
    with conn.cursor() as cur:
        for box in (bbox, None):  # a detour outside the box is rare; the region settles it
            cur.execute(sql("route_many"), {"edges_sql": edges_sql(cur, region, vsnaps, bbox=box),
                                            "starts": list(starts), "end": -1, "snaps": json.dumps(vsnaps)})
            costs = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
            if len(costs) == len(starts):
                break
    return costs


def _costs_memory(g: graph.Graph, target: Snap, starts: dict[int, tuple[int, Snap]]) -> dict[int, tuple[float, float]]:
    """Seconds and metres from each start to the target by one search on the reversed in-memory graph."""
    if not starts:
        return {}
    paths = graph.to_one(g, [graph.End(g.row_of[s.edge], s.frac) for _, s in starts.values()],
                         graph.End(g.row_of[target.edge], target.frac))
    costs = {}
    for vid, path in zip(starts, paths, strict=True):
        if path is not None:
            metres = sum(float(g.length[k]) * (f1 - f0) for k, _, f0, f1 in path.pieces)
            costs[vid] = (path.cost, metres)
    return costs


def responders(conn, actor, incident_id, now: datetime | None = None, limit: int = 10,
               on_duty: timedelta = ON_DUTY, prefilter: int = PREFILTER, engine: str = "memory") -> dict:
    """Candidate responders to an incident ranked by travel time (one many-to-one search: the
    in-memory graph, or ``engine="pgrouting"``, the reference)."""
    now = now or datetime.now(timezone.utc)
    item = incidents.fetch(conn, actor, incident_id, now=now)
    site = incident_end(item)
    region = actor.region_code
    with conn.cursor() as cur:
        cur.execute(sql("route_candidates"), {"lon": site.lon, "lat": site.lat, "region": region,
                                              "scope": policy.row_params(actor)["scope"],
                                              "category": item["category"], "now": now,
                                              "since": now - on_duty, "limit": prefilter})
        cands = cur.fetchall()
    ends = [(site.lon, site.lat)] + [(c[3], c[4]) for c in cands]
    g = region_graph(conn, region) if engine == "memory" else None
    snaps = snap(conn, region, ends) if g is None else snap_memory(g, ends)
    (target,) = _check_snaps([site], snaps[:1], MAX_SNAP_M)
    vsnaps = [{"vid": -1, "edge": target.edge, "frac": target.frac}]
    starts: dict[int, tuple[int, Snap]] = {}  # a candidate's vertex id: its index and its snap
    for i, s in enumerate(snaps[1:]):  # snaps[1:] is one per candidate
        if s is not None and s.dist_m <= MAX_SNAP_M:
            vsnaps.append({"vid": -(i + 2), "edge": s.edge, "frac": s.frac})
            starts[-(i + 2)] = (i, s)
    costs = _costs_memory(g, target, starts) if g is not None else \
        _costs_pgrouting(conn, region, site, snaps, vsnaps, starts)
    items, unreachable = [], []
    for vid, (i, s) in starts.items():
        kind, ref, name, lon, lat, fix_at, straight = cands[i]
        entry = {"kind": kind, "ref": ref, "name": name, "lon": lon, "lat": lat,
                 "straight_m": round(straight, 1), "snap_m": round(s.dist_m, 1),
                 "fix_at": fix_at.isoformat() if fix_at else None,
                 "from": f"{'facility' if kind in ('police_station', 'governance_centre') else kind}:{ref}"}
        # a same-point start yields no row (zero-length path): it is there already
        if vid not in costs and not (s.edge == target.edge and abs(s.frac - target.frac) < 1e-12):
            unreachable.append(entry)
            continue
        road_s, length = costs.get(vid, (0.0, 0.0))
        offroad_s = (s.dist_m + target.dist_m) / (OFFROAD_KMH / 3.6)
        total = road_s + offroad_s
        items.append(entry | {"travel_s": round(road_s, 1), "length_m": round(length, 1),
                              "offroad_s": round(offroad_s, 1), "total_s": round(total, 1),
                              "minutes": round(total / 60, 1)})
    unreachable = [_shown(actor, e) for e in unreachable]
    items.sort(key=lambda e: (e["total_s"], e["kind"], e["ref"]))
    return {"incident": site.describe() | {"snap_m": round(target.dist_m, 1)},
            "on_duty_since": (now - on_duty).isoformat(), "offroad_kmh": OFFROAD_KMH,
            "candidates": len(cands), "items": [_shown(actor, e) for e in items[:limit]],
            "unreachable": unreachable}
