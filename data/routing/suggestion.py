"""The one-more-station suggestion (``reach.suggest``), cached: computing it takes seconds, so the
map's layer and ``/api/v1/coverage/suggest`` read it from ``coverage_suggestion`` (0038).

A row is kept per region, jurisdiction unit (the caller's: ``suggest`` scopes by the actor, and
so does the cache), facility kind and minutes (0: each cell's own 10/30-minute promise). It is
current while the region's road network version (0034) and the digest of the kind's facilities
and of the residents per cell (``suggest_source.sql``) are those it was computed from, and it is
younger than ``MAX_AGE`` (a day: anything else it reads). Two callers asking at once compute
once: the second waits on an advisory lock and reads the first one's row.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from data.routing import reach
from db.core import sql

MAX_AGE = timedelta(hours=24)


def _key(actor, kind: str, minutes: int | None) -> dict:
    return {"region": actor.region_code, "scope": actor.unit_code, "kind": kind, "minutes": minutes or 0}


def source(conn, region: str, kind: str) -> tuple[int | None, str]:
    """(road network version, digest of the kind's facilities and the residents per cell): what a
    suggestion is computed from."""
    with conn.cursor() as cur:
        cur.execute(sql("suggest_source"), {"region": region, "kind": kind})
        version, digest = cur.fetchone()
    return version, digest


def cached(conn, actor, kind: str = "governance_centre", minutes: int | None = None,
           now: datetime | None = None) -> dict | None:
    """The stored suggestion for ``actor``'s jurisdiction if it is current, else None (reads only)."""
    key = _key(actor, kind, minutes)
    with conn.cursor() as cur:
        cur.execute(sql("suggest_stored"), key)
        row = cur.fetchone()
    if row is None:
        return None
    road_version, digest, answer, computed_at = row
    now = now or datetime.now(timezone.utc)
    if (road_version, digest) != source(conn, actor.region_code, kind) or now - computed_at > MAX_AGE:
        return None
    return answer


def current(conn, actor, kind: str = "governance_centre", minutes: int | None = None) -> dict:
    """The suggestion for ``actor`` (``reach.suggest``'s answer, one pick), from the cache when it
    is current, else computed now and stored (``conn`` must be a writer's; commits)."""
    reach._check(kind, minutes if minutes is not None else reach.TOWN_MINUTES)
    answer = cached(conn, actor, kind, minutes)
    if answer is not None:
        conn.rollback()
        return answer
    key = _key(actor, kind, minutes)
    lock = {"key": "|".join(map(str, key.values()))}
    with conn.cursor() as cur:
        cur.execute(sql("suggest_lock"), lock)
    try:
        answer = cached(conn, actor, kind, minutes)  # another caller computed it while this one waited
        if answer is None:
            road_version, digest = source(conn, actor.region_code, kind)
            answer = reach.suggest(conn, actor, kind, minutes=minutes)  # commits isochrones it rebuilt
            with conn.cursor() as cur:
                cur.execute(sql("suggest_upsert"), {**key, "road_version": road_version,
                                                    "facilities_hash": digest, "answer": json.dumps(answer)})
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        with conn.cursor() as cur:
            cur.execute(sql("suggest_unlock"), lock)
        conn.commit()
    return answer


def features(answer: dict) -> dict:
    """The suggested site(s) as a GeoJSON FeatureCollection: kind, residents newly reached, gap
    cells reached, demand points, the coverage share before and after."""
    kpi = answer.get("kpi") or {}
    out = []
    for rank, p in enumerate(answer.get("picks") or [], start=1):
        out.append({"type": "Feature", "id": f"suggested-{rank}",
                    "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                    "properties": {"rank": rank, "kind": answer["kind"], "vertex_id": p["vertex_id"],
                                   "gap_population_reached": p["gap_population_reached"],
                                   "cells": len(p["cells"]), "demand_points": answer.get("demand_points"),
                                   "share_before": kpi.get("share"), "share_after": answer.get("kpi_after"),
                                   "computed_at": answer.get("computed_at")}})
    return {"type": "FeatureCollection", "features": out}
