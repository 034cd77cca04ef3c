"""Service reach: isochrones per facility kind, coverage of residents per cell, coverage gaps,
and "where would one more station close the most gap".

Isochrone: ``pgr_drivingDistance`` from a virtual super-source linked to every facility of the
kind (each link costs that facility's off-road access time), so one call gives, per node, the
time from the nearest facility. Each touched edge is reached from either end as far as the time
left allows (partial edges, not just whole ones), and around what is reached lies an off-road
margin of the time left × ``OFFROAD_KMH`` (``geo.isochrone``), all unioned. No hull over sparse
nodes: a hull would claim the empty steppe between two roads.

Cache: one row per (region, kind, minutes) with a digest of the network, the facilities and the
build parameters; a read that finds another digest rebuilds (lazy), ``refresh`` forces it.

Coverage: residents of a cell are taken as spread uniformly over its area (the registry has no
finer location for them), so a cell's covered share is the share of its area inside the circle
its kind of place is promised: 10 minutes for town-seat cells (village named …社区), 30 for
pastoral ones. Cells under ``GAP_SHARE`` are coverage gaps.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import shapely

from data.routing import OFFROAD_KMH, Invalid
from data.routing.route import edges_sql, snap
from db.core import sql
from domain import policy
from geo.isochrone import local_transformers, reach_polygon, reached_part

TOWN_MINUTES, PASTORAL_MINUTES = 10, 30  # the seed's service circles
GAP_SHARE = 0.8  # a cell with less than this share of residents inside its circle is a gap
FACILITY_KINDS = ("governance_centre", "police_station", "school", "clinic", "mediation_station",
                  "department_base")
BUILD_VERSION = "iso-1"  # part of the digest: a change of method rebuilds every cache
LINK_BASE = 10 ** 9  # virtual access links get ids below -LINK_BASE, clear of route pieces
DEMAND_STEP_DEG = 0.02  # demand points: the uncovered part of a gap cell cut into ~2 km squares


def _check(kind: str, minutes: int) -> None:
    errors = {}
    if kind not in FACILITY_KINDS:
        errors["kind"] = f"one of {', '.join(FACILITY_KINDS)}"
    if not isinstance(minutes, int) or not 1 <= minutes <= 240:
        errors["minutes"] = "an integer from 1 to 240"
    if errors:
        raise Invalid("invalid isochrone parameters", errors)


def _params(minutes: int, offroad_kmh: float) -> str:
    return f"{BUILD_VERSION};{minutes};{offroad_kmh}"


def build(conn, region: str, kind: str, minutes: int, offroad_kmh: float = OFFROAD_KMH):
    """The reach polygon (shapely, lon/lat) of every facility of ``kind`` within ``minutes``."""
    limit_s = minutes * 60.0
    offroad_mps = offroad_kmh / 3.6
    with conn.cursor() as cur:
        cur.execute(sql("iso_facilities"), {"region": region, "kind": kind})
        facilities = cur.fetchall()
    if not facilities:
        return shapely.MultiPolygon(), 0
    snaps = snap(conn, region, [(f[2], f[3]) for f in facilities])
    lon0 = float(np.mean([f[2] for f in facilities]))
    lat0 = float(np.mean([f[3] for f in facilities]))
    fwd, back = local_transformers(lon0, lat0)
    parts = []
    vsnaps, links = [], []
    for i, (f, s) in enumerate(zip(facilities, snaps, strict=True)):
        fx, fy = fwd.transform(f[2], f[3])
        if s is None:  # a region without roads: only the off-road circle
            parts.append((np.array([[fx, fy]]), np.array([limit_s])))
            continue
        access_s = s.dist_m / offroad_mps
        sx, sy = fwd.transform(s.lon, s.lat)
        parts.append(reached_part(np.array([[fx, fy], [sx, sy]]), access_s, limit_s))
        vsnaps.append({"vid": -(i + 2), "edge": s.edge, "frac": s.frac})
        if access_s <= limit_s:
            links.append({"id": -(LINK_BASE + i), "source": -1, "target": -(i + 2), "cost": access_s})
    if links:
        with conn.cursor() as cur:
            cur.execute(sql("iso_reach"), {
                "edges_sql": edges_sql(cur, region, vsnaps, links), "limit_s": limit_s, "region": region,
                "snaps": json.dumps(vsnaps)})
            rows = cur.fetchall()
        geoms = shapely.from_wkb([bytes(r[4]) for r in rows])
        for (cost, rcost, at_source, at_target, _), g in zip(rows, geoms, strict=True):
            c = shapely.get_coordinates(g)
            xy = np.column_stack(fwd.transform(c[:, 0], c[:, 1]))
            if at_source is not None and cost >= 0:
                parts.append(reached_part(xy, cost, limit_s - at_source))
            if at_target is not None and rcost >= 0:
                parts.append(reached_part(xy[::-1], rcost, limit_s - at_target))
    return reach_polygon(parts, offroad_mps, back), len(facilities)


def source_hash(conn, region: str, kind: str, minutes: int, offroad_kmh: float = OFFROAD_KMH) -> str:
    """The digest of the network, facilities and parameters an isochrone depends on."""
    with conn.cursor() as cur:
        cur.execute(sql("iso_hash"), {"region": region, "kind": kind, "params": _params(minutes, offroad_kmh)})
        return cur.fetchone()[0]


def ensure(conn, region: str, kind: str, minutes: int, refresh: bool = False) -> bool:
    """Make the cached isochrone current (rebuild if stale or ``refresh``); True if it was rebuilt. Commits."""
    _check(kind, minutes)
    digest = source_hash(conn, region, kind, minutes)
    with conn.cursor() as cur:
        cur.execute(sql("iso_stored"), {"region": region, "kind": kind, "minutes": minutes})
        row = cur.fetchone()
    if row is not None and row[0] == digest and not refresh:
        return False
    geom, count = build(conn, region, kind, minutes)
    with conn.cursor() as cur:
        cur.execute(sql("iso_upsert"), {"region": region, "kind": kind, "minutes": minutes,
                                        "wkb": shapely.to_wkb(geom), "facilities": count, "hash": digest})
    conn.commit()
    return True


def refresh_all(conn, region: str, kinds=FACILITY_KINDS, minutes=(TOWN_MINUTES, PASTORAL_MINUTES),
                force: bool = True) -> list[tuple[str, int, bool]]:
    """Rebuild (or, without ``force``, bring up to date) every isochrone of a region."""
    return [(k, m, ensure(conn, region, k, m, refresh=force)) for k in kinds for m in minutes]


def isochrone_feature(conn, actor, kind: str, minutes: int) -> dict:
    """The isochrone as a GeoJSON Feature, current, clipped to the caller's jurisdiction."""
    ensure(conn, actor.region_code, kind, minutes)
    with conn.cursor() as cur:
        cur.execute(sql("iso_feature"), {"region": actor.region_code, "kind": kind, "minutes": minutes,
                                         "scope": actor.unit_code})
        return json.loads(cur.fetchone()[0])


def coverage(conn, actor, kind: str = "governance_centre", town_minutes: int = TOWN_MINUTES,
             pastoral_minutes: int = PASTORAL_MINUTES, threshold: float = GAP_SHARE, *,
             shown: bool = True) -> dict:
    """Per cell in the caller's jurisdiction: residents, covered share and gap; with the KPI.
    ``shown``: small counts suppressed for the caller (False: for internal sums only)."""
    region = actor.region_code
    for m in {town_minutes, pastoral_minutes}:
        ensure(conn, region, kind, m)
    with conn.cursor() as cur:
        cur.execute(sql("coverage_cells"), {"region": region, "scope": actor.unit_code, "kind": kind,
                                            "town_minutes": town_minutes, "pastoral_minutes": pastoral_minutes})
        rows = cur.fetchall()
    result = coverage_summary(rows, kind, town_minutes, pastoral_minutes, threshold)
    return _suppressed(actor, result) if shown else result


def _suppressed(actor, result: dict) -> dict:
    """Small resident counts (1–4) blanked for roles that do not see people counts, with what is
    computed from them (covered and gap residents), as the layer registry does (domain.policy)."""
    for c in result["cells"]:
        if policy.suppress(actor, c["residents"]) is None:
            c["residents"] = c["covered"] = c["gap_population"] = None
    return result


def coverage_summary(rows, kind: str, town_minutes: int, pastoral_minutes: int, threshold: float) -> dict:
    """The coverage answer from (code, name, village, town, minutes, residents, area, covered area) rows."""
    cells = []
    for code, name, village, town, minutes, pop, area, covered in rows:
        share = min(1.0, covered / area) if area > 0 else 0.0
        covered_pop = pop * share
        cells.append({"code": code, "name": name, "village": village, "type": "town" if town else "pastoral",
                      "minutes": minutes, "residents": pop, "share": round(share, 4),
                      "covered": round(covered_pop, 1), "gap_population": round(pop - covered_pop, 1),
                      "gap": share < threshold})
    residents = sum(c["residents"] for c in cells)
    covered = sum(c["covered"] for c in cells)
    gaps = [c for c in cells if c["gap"]]
    return {"kind": kind, "town_minutes": town_minutes, "pastoral_minutes": pastoral_minutes,
            "threshold": threshold, "offroad_kmh": OFFROAD_KMH,
            "population_model": "residents uniform over each cell's area",
            "kpi": {"residents": residents, "covered": round(covered, 1),
                    "share": round(covered / residents, 4) if residents else None,
                    "cells": len(cells), "gap_cells": len(gaps),
                    "gap_population": round(sum(c["gap_population"] for c in gaps), 1)},
            "cells": cells}


def coverage_gaps(conn, actor, kind: str = "governance_centre", **kw) -> dict:
    """The coverage-gap cells as GeoJSON: the uncovered part of each, with its numbers."""
    result = coverage(conn, actor, kind, **kw)
    gaps = [c for c in result["cells"] if c["gap"]]
    with conn.cursor() as cur:
        cur.execute(sql("coverage_gaps"), {"region": actor.region_code, "kind": kind,
                                           "codes": [c["code"] for c in gaps],
                                           "minutes": [c["minutes"] for c in gaps]})
        geoms = dict(cur.fetchall())
    return {"type": "FeatureCollection", "kpi": result["kpi"], "threshold": result["threshold"],
            "features": [{"type": "Feature", "id": c["code"], "geometry": json.loads(geoms[c["code"]]),
                          "properties": {k: v for k, v in c.items() if k != "gap"}} for c in gaps]}


def _demand(conn, region: str, kind: str, gaps: list[dict], minutes: int | None) -> list[tuple]:
    """The gap cells' uncovered residents as weighted points (cell, minutes, lon, lat, weight)."""
    demand: list[tuple] = []
    with conn.cursor() as cur:
        for m in sorted({c["minutes"] for c in gaps}):
            group = [c for c in gaps if c["minutes"] == m]
            cur.execute(sql("coverage_demand"), {
                "region": region, "kind": kind, "iso_minutes": m, "step_deg": DEMAND_STEP_DEG,
                "codes": [c["code"] for c in group], "minutes": [minutes or m for _ in group],
                "pops": [float(c["gap_population"]) for c in group]})
            demand += cur.fetchall()
    return [d for d in demand if d[4] and d[4] > 0]


def _road_budget(conn, region: str, demand: list[tuple]) -> tuple[list[dict], dict[int, tuple[float, int]]]:
    """Each demand point's snap as a virtual vertex, and its road time left after walking to the road."""
    snaps = snap(conn, region, [(d[2], d[3]) for d in demand])
    offroad_mps = OFFROAD_KMH / 3.6
    vsnaps: list[dict] = []
    budget: dict[int, tuple[float, int]] = {}  # virtual vertex id: (seconds left on the road, demand index)
    for i, (d, s) in enumerate(zip(demand, snaps, strict=True)):
        if s is None:
            continue
        left = d[1] * 60.0 - s.dist_m / offroad_mps  # time left on the road after walking to it
        if left > 0:
            vsnaps.append({"vid": -(i + 2), "edge": s.edge, "frac": s.frac})
            budget[-(i + 2)] = (left, i)
    return vsnaps, budget


def _greedy(reach: dict[int, set[int]], weight: dict[int, float], picks: int) -> list[tuple[int, set[int]]]:
    """Up to ``picks`` junctions, each reaching the most weight not reached by the ones before it."""
    chosen = []
    left_over = set(weight)
    for _ in range(picks):
        best = max(reach, key=lambda n: (sum(weight[i] for i in reach[n] & left_over), -n), default=None)
        if best is None or not reach[best] & left_over:
            break
        chosen.append((best, reach[best] & left_over))
        left_over -= reach[best]
    return chosen


def suggest(conn, actor, kind: str = "governance_centre", minutes: int | None = None, picks: int = 1,
            alternatives: int = 5) -> dict:
    """Greedy: the road junction whose new station would reach the most uncovered gap residents.

    Demand is the uncovered residents of the gap cells, as weighted points; a junction reaches a
    point if road time backwards from the point plus its off-road access fits the time (the
    cell's own 10/30 minutes, or ``minutes`` for all). One ``pgr_drivingDistance`` call from all
    points on the reversed graph gives every (point, junction) pair at once.
    """
    if minutes is not None and not 1 <= minutes <= 240:
        raise Invalid("invalid minutes", {"minutes": "an integer from 1 to 240"})
    region = actor.region_code
    result = coverage(conn, actor, kind, shown=False)  # demand weights; only sums leave
    gaps = [c for c in result["cells"] if c["gap"] and c["gap_population"] > 0]
    answer = {"kind": kind, "minutes": minutes or "10 town / 30 pastoral", "kpi": result["kpi"],
              "picks": [], "alternatives": []}
    if not gaps:
        return answer
    demand = _demand(conn, region, kind, gaps, minutes)
    vsnaps, budget = _road_budget(conn, region, demand)
    if not budget:
        return answer | {"note": "no uncovered resident is within reach of any road in time"}
    with conn.cursor() as cur:
        cur.execute(sql("coverage_suggest"), {
            "edges_sql": edges_sql(cur, region, vsnaps, reverse=True), "starts": list(budget),
            "limit_s": max(b[0] for b in budget.values()), "region": region, "scope": actor.unit_code})
        pairs = cur.fetchall()
    reach: dict[int, set[int]] = {}
    where = {}
    for vid, node, secs, lon, lat in pairs:
        left, i = budget[vid]
        if secs <= left:
            reach.setdefault(node, set()).add(i)
            where[node] = (lon, lat)
    weight = {i: float(demand[i][4]) for _, i in budget.values()}
    cell_of = {i: demand[i][0] for i in weight}

    def site(node, covered):
        cells = sorted({cell_of[i] for i in covered})
        return {"vertex_id": node, "lon": where[node][0], "lat": where[node][1],
                "gap_population_reached": round(sum(weight[i] for i in covered), 1), "cells": cells}

    ranked = sorted(reach, key=lambda n: (-sum(weight[i] for i in reach[n]), n))
    answer["alternatives"] = [site(n, reach[n]) for n in ranked[:alternatives]]
    answer["picks"] = [site(n, covered) for n, covered in _greedy(reach, weight, max(1, picks))]
    residents = result["kpi"]["residents"] or 0
    if residents and answer["picks"]:
        gained = sum(p["gap_population_reached"] for p in answer["picks"])
        answer["kpi_after"] = round((result["kpi"]["covered"] + gained) / residents, 4)
    answer["demand_points"] = len(weight)
    answer["computed_at"] = datetime.now(timezone.utc).isoformat()
    return answer
