"""Loading the demo county into PostGIS: one transaction, all or nothing, with progress bars."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import shapely
from psycopg2.extras import execute_values
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from db.core import connect, sql
from demo import places as demo_places
from demo.county import REGION_CODE, REGION_NAME, REGION_NAME_EN, REGION_TIMEZONE, build_county
from demo.registry import link_incidents, load_registry
from demo.roads import build_network
from demo.users import create_demo_users

DEFAULT_INCIDENTS = 50_000  # about a year of reports from 474 workers
MAP_REACH = [("governance_centre", 10), ("governance_centre", 30), ("police_station", 10), ("police_station", 30)]


class DemoError(RuntimeError):
    """The demo could not be loaded; nothing was written."""


def _ewkb(geom) -> str:
    """Hex EWKB with SRID 4326, for ``%s::geometry`` parameters."""
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def vertex_id(region_code: str, local_id: int) -> int:
    """Globally unique road junction id: the adcode times 10⁷ plus the region's own number."""
    return int(region_code) * 10_000_000 + local_id


def is_loaded(dsn: str, region_code: str = REGION_CODE) -> bool:
    """True when the region already has grid units."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql("demo_is_loaded"), {"region_code": region_code})
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def _progress(console: Console | None) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console or Console(stderr=True), disable=console is None)


def load_demo(dsn: str, *, seed: int = 1, incidents: int | None = None, now: datetime | None = None,
              replace: bool = False, console: Console | None = None) -> dict[str, int]:
    """Generate the demo county for ``seed`` and load it in one transaction; return row counts."""
    now = (now or datetime.now(timezone.utc))
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    n_incidents = DEFAULT_INCIDENTS if incidents is None else incidents
    rng = np.random.default_rng(seed)
    conn = connect(dsn)
    counts: dict[str, int] = {}
    try:
        with _progress(console) as progress:
            task = progress.add_task("building the county's grid", total=None)
            county = build_county(seed)
            depts = demo_places.departments(rng, county)
            facilities = demo_places.facilities(rng, county)
            roster = demo_places.workers(rng, county)
            fixes = demo_places.patrol_fixes(rng, county, roster, now)
            nodes, edges = build_network(rng, county, depts + facilities)
            progress.update(task, total=1, completed=1)
            with conn.cursor() as cur:
                if replace:
                    task = progress.add_task("removing the old demo county", total=None)
                    cur.execute(sql("demo_region_delete"), {"region_code": REGION_CODE})
                    progress.update(task, total=1, completed=1)
                cur.execute(sql("demo_region_insert"),
                            {"region_code": REGION_CODE, "name": REGION_NAME, "name_en": REGION_NAME_EN,
                             "timezone": REGION_TIMEZONE})
                counts.update(_insert_grid(cur, county, progress))
                counts.update(_insert_places(cur, depts, facilities, roster, fixes, progress))
                counts["road_edge"] = _insert_roads(cur, nodes, edges, progress)
                counts["app_user"] = len(create_demo_users(cur, REGION_CODE))
                task = progress.add_task("registries (houses, households, people)", total=None)
                counts.update(load_registry(cur, county, REGION_CODE, seed, now))
                progress.update(task, total=1, completed=1)
                if n_incidents:
                    from demo.incidents import load_incidents

                    counts["incident"] = load_incidents(conn, REGION_CODE, n_incidents, seed, now,
                                                        progress=progress)
                    counts.update(link_incidents(cur, REGION_CODE))
                    cur.execute(sql("demo_return_visits"), {"region_code": REGION_CODE, "seed": seed, "now": now})
                    counts["return_visit"] = cur.fetchone()[0]
            conn.commit()
            if n_incidents:
                from demo.incidents import settle

                task = progress.add_task("vacuum and analyze the incident tables", total=1)
                settle(conn)
                progress.advance(task)
            # the service circles the map shows, computed now so the first page load is fast
            task = progress.add_task("service reach (10/30-minute isochrones)", total=len(MAP_REACH))
            from data.routing import reach

            for kind, minutes in MAP_REACH:
                reach.ensure(conn, REGION_CODE, kind, minutes)
                progress.advance(task)
    except Exception as exc:
        conn.rollback()
        if isinstance(exc, (KeyboardInterrupt,)):
            raise
        raise DemoError(f"demo load failed, nothing was written: {exc}") from exc
    finally:
        conn.close()
    return counts


def _insert_grid(cur, county, progress) -> dict[str, int]:
    """The four levels, parents first, and the cells' population."""
    task = progress.add_task("grid units (banner → towns → villages → cells)", total=len(county.units))
    for level in (1, 2, 3, 4):
        rows = [(u.code, REGION_CODE, u.level, u.parent_code, u.name, u.name_en, _ewkb(u.geom),
                 u.level > 1, json.dumps(u.provenance, ensure_ascii=False))
                for u in county.level(level)]
        execute_values(cur, sql("demo_grid_unit_insert"), rows,
                       template="(%s, %s, %s, %s, %s, %s, %s::geometry, %s, %s::jsonb)", page_size=100)
        progress.advance(task, len(rows))
    cells = county.level(4)
    execute_values(cur, sql("demo_cell_population_insert"),
                   [(c.code, REGION_CODE, c.population, c.households, True) for c in cells])
    return {"grid_unit": len(county.units), "cell_population": len(cells)}


def _insert_places(cur, depts, facilities, roster, fixes, progress) -> dict[str, int]:
    """Departments, facilities, workers and their patrol fixes."""
    task = progress.add_task("departments, facilities, workers", total=3 + len(fixes))
    execute_values(cur, sql("demo_department_insert"),
                   [(f"{REGION_CODE}-{d.kind}", REGION_CODE, d.kind, d.name, d.name_en,
                     _ewkb(shapely.Point(d.lon, d.lat)), True) for d in depts],
                   template="(%s, %s, %s, %s, %s, %s::geometry, %s)")
    execute_values(cur, sql("demo_facility_insert"),
                   [(REGION_CODE, f.kind, f.name, f.name_en, f.unit_code,
                     _ewkb(shapely.Point(f.lon, f.lat)), True) for f in facilities],
                   template="(%s, %s, %s, %s, %s, %s::geometry, %s)")
    ids = execute_values(cur, sql("demo_worker_insert"),
                         [(REGION_CODE, w.code, w.name, w.phone, w.unit_code, True) for w in roster],
                         fetch=True, page_size=1000)
    progress.advance(task, 3)
    worker_ids = [r[0] for r in ids]
    rows = [(worker_ids[i], REGION_CODE, at, _ewkb(shapely.Point(x, y)), acc) for i, at, x, y, acc in fixes]
    for start in range(0, len(rows), 5000):
        chunk = rows[start:start + 5000]
        execute_values(cur, sql("demo_worker_position_insert"), chunk,
                       template="(%s, %s, %s, %s::geometry, %s)", page_size=5000)
        progress.advance(task, len(chunk))
    return {"department": len(depts), "facility": len(facilities), "grid_worker": len(roster),
            "worker_position": len(fixes)}


def _insert_roads(cur, nodes, edges, progress) -> int:
    """Junctions and links; junction ids are unique across regions (see ``vertex_id``)."""
    task = progress.add_task("road network", total=len(nodes) + len(edges))
    execute_values(cur, sql("demo_road_vertex_insert"),
                   [(vertex_id(REGION_CODE, i + 1), REGION_CODE, _ewkb(shapely.Point(x, y)))
                    for i, (x, y) in enumerate(nodes)],
                   template="(%s, %s, %s::geometry)", page_size=1000)
    progress.advance(task, len(nodes))
    execute_values(cur, sql("demo_road_edge_insert"),
                   [(REGION_CODE, vertex_id(REGION_CODE, e.source), vertex_id(REGION_CODE, e.target),
                     e.cost_s, e.cost_s, e.length_m, e.road_class, e.name, e.speed_kmh,
                     _ewkb(shapely.LineString(e.coords))) for e in edges],
                   template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::geometry)", page_size=1000)
    progress.advance(task, len(edges))
    return len(edges)
