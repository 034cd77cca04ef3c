"""Synthetic incident history for a demo county: where people are, seasonal, with closed-loop timelines.

``load_incidents`` reads the county already in the database (level-4 cells, population,
departments, categories, workers), generates incidents chunk by chunk with numpy and COPYs each
chunk, so memory stays bounded at any n. Rows are formatted with ``str.join`` over lists of
precomputed strings: measured here, pandas ``to_csv`` took ~3 s per 700k event rows, the join
~0.35 s, and formatting is most of the Python time of a 1M load.
"""
from __future__ import annotations

import io
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from psycopg2.extensions import encodings

from db.bulk import TimeText, copy_rows, csv_text, defer, ewkb_hex, restore, uuid4_hex
from db.core import sql
from demo import timelines as tl

CHUNK = 100_000
POPULATION_FLOOR = 0.05  # of the mean cell population: empty steppe cells still see a few cases
INSIDE_MARGIN_DEG = 1e-6  # ~0.1 m: points keep clear of cell edges, where piece rounding lives
ARRIVE_SPREAD_M = 30.0
SOURCES = ("grid_worker", "hotline", "public_app")
SOURCE_SHARES = np.array([0.92, 0.05, 0.03])

# Relative frequency of each category; codes not listed (added later) get DEFAULT_WEIGHT.
CATEGORY_WEIGHTS = {
    "grassland_dispute": 12, "land_dispute": 6, "family_dispute": 13, "labour_dispute": 5,
    "public_order": 9, "work_safety": 6, "fire_hazard": 5, "road_safety": 6,
    "road_line_protection": 3, "school_safety": 3, "special_groups": 4, "at_risk_youth": 2,
    "livelihood_service": 14, "health_epidemic": 4, "market_food_safety": 4, "environment": 4,
    "housing_safety": 3,
}
DEFAULT_WEIGHT = 2
DESCRIPTIONS = {
    "grassland_dispute": ("牧户草场围栏越界争议", "休牧期偷牧引发邻里纠纷"),
    "land_dispute": ("承包地边界不清发生争执", "宅基地权属争议"),
    "family_dispute": ("邻里因用水发生口角", "家庭赡养纠纷需调解"),
    "labour_dispute": ("工地拖欠农民工工资", "牧企雇工工资争议"),
    "public_order": ("夜间可疑人员出没", "村道路灯损坏存在治安隐患"),
    "work_safety": ("小型作坊无安全防护", "施工现场未设警示标志"),
    "fire_hazard": ("平房私拉电线取暖", "煤炉烟道破损"),
    "road_safety": ("路面结冰未撒融雪剂", "农用车违规载人"),
    "road_line_protection": ("输电线路下堆放杂物", "铁路护网破损"),
    "school_safety": ("校门口流动摊贩聚集", "上下学时段车辆拥堵"),
    "special_groups": ("社区矫正人员走访", "严重精神障碍患者随访"),
    "at_risk_youth": ("辍学青少年帮扶", "留守儿童关爱走访"),
    "livelihood_service": ("低保申请代办", "高龄津贴代办"),
    "health_epidemic": ("疫苗接种提醒走访", "发热人员健康随访"),
    "market_food_safety": ("小卖部销售过期食品", "无证经营餐饮"),
    "environment": ("草原上倾倒垃圾", "砂石开采扬尘"),
    "housing_safety": ("危房墙体开裂", "房屋屋顶漏雨存在隐患"),
}
NOTES = {tl.ESC3: "逾期未办结，自动上报", tl.ESC2: "逾期未办结，自动上报",
         tl.ESC1: "逾期未办结，自动上报", tl.REJECT: "无效上报"}

INCIDENT_COLUMNS = ("id", "region_code", "category_code", "description", "geom", "cell_code",
                    "observed_at", "received_at", "state", "handling_level", "due_at",
                    "department_code", "reporter_id", "resolved_at", "closed_at", "solved_level",
                    "source", "synthetic")
EVENT_COLUMNS = ("incident_id", "region_code", "at", "action", "from_state", "to_state", "level",
                 "actor", "note", "geom")


class IncidentSetupError(ValueError):
    """The county in the database lacks what incidents need (cells, workers, departments)."""


@dataclass
class County:
    """What the generator reads from the database, as arrays indexed by cell / category."""

    cells: np.ndarray           # object [c] level-4 cell codes
    weights: np.ndarray         # float [c] probability of a cell
    shapes: list                # prepared (slightly eroded) geometries per cell
    bounds: np.ndarray          # [c, 4]
    fill: np.ndarray            # [c] area / bbox area, to size rejection draws
    centre: np.ndarray          # object [c, 5] actor of the governance centre per level
    cand_start: np.ndarray      # [c] offsets into cand_worker
    cand_count: np.ndarray
    cand_worker: np.ndarray     # indices into worker_ids
    worker_ids: np.ndarray      # object: str(id)
    worker_actor: np.ndarray    # object: 'worker:<code>'
    categories: list[str]
    category_p: np.ndarray
    dept_code: np.ndarray       # object [k] department code of each category's kind


def read_county(conn, region_code: str) -> County:
    """Read cells, population, workers, departments and categories of ``region_code``."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT g.code, ST_AsBinary(g.geom), coalesce(p.population, 0)
            FROM grid_unit g LEFT JOIN cell_population p ON p.cell_code = g.code
            WHERE g.region_code = %s AND g.level = 4 ORDER BY g.code""", (region_code,))
        cell_rows = cur.fetchall()
        cur.execute("SELECT id, code, unit_code FROM grid_worker"
                    " WHERE region_code = %s AND active ORDER BY code", (region_code,))
        workers = cur.fetchall()
        cur.execute("SELECT kind, code FROM department WHERE region_code = %s", (region_code,))
        departments = dict(cur.fetchall())
        cur.execute("SELECT code, department_kind FROM incident_category ORDER BY sort_order, code")
        categories = cur.fetchall()
    if not cell_rows:
        raise IncidentSetupError(f"region {region_code} has no level-4 grid cells")
    if not workers:
        raise IncidentSetupError(f"region {region_code} has no active grid workers")
    missing = sorted({kind for _, kind in categories} - departments.keys())
    if missing:
        raise IncidentSetupError(f"region {region_code} has no department of kind {', '.join(missing)}")

    cells = np.array([r[0] for r in cell_rows], dtype=object)
    population = np.array([r[2] for r in cell_rows], dtype=float)
    weights = population + max(POPULATION_FLOOR * population.mean(), 1.0)
    geoms = shapely.from_wkb([bytes(r[1]) for r in cell_rows])
    eroded = shapely.buffer(geoms, -INSIDE_MARGIN_DEG)
    geoms = np.where(shapely.is_empty(eroded), geoms, eroded)
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)
    box_area = (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])
    fill = np.clip(shapely.area(geoms) / np.maximum(box_area, 1e-18), 0.01, 1.0)

    centre = np.empty((len(cells), 5), dtype=object)
    for i, code in enumerate(cells):
        village, town, banner = (f"centre:{code[:k]}" for k in (12, 9, 6))
        centre[i] = (None, banner, town, village, village)  # a grid has no centre: its village's

    # Reporter candidates: the cell's own workers, else the town's, else the county's.
    codes = [w[2] for w in workers]
    cand_start: list[int] = []
    cand_count: list[int] = []
    cand: list[int] = []
    for code in cells:
        pool = ([i for i, u in enumerate(codes) if u == code]
                or [i for i, u in enumerate(codes) if u.startswith(code[:9])]
                or list(range(len(codes))))
        cand_start.append(len(cand))
        cand_count.append(len(pool))
        cand.extend(pool)

    cat_codes = [c for c, _ in categories]
    cat_w = np.array([CATEGORY_WEIGHTS.get(c, DEFAULT_WEIGHT) for c in cat_codes], dtype=float)
    return County(
        cells=cells, weights=weights / weights.sum(), shapes=list(geoms), bounds=bounds, fill=fill,
        centre=centre, cand_start=np.array(cand_start), cand_count=np.array(cand_count),
        cand_worker=np.array(cand), worker_ids=np.array([str(w[0]) for w in workers], dtype=object),
        worker_actor=np.array([f"worker:{w[1]}" for w in workers], dtype=object),
        categories=cat_codes, category_p=cat_w / cat_w.sum(),
        dept_code=np.array([departments[k] for _, k in categories], dtype=object),
    )


def sample_points(rng: np.random.Generator, county: County, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A uniform point (lon, lat) inside each requested cell, by rejection in the cell's bbox.

    Every point is tested against its (eroded) cell and redrawn until inside: nothing is left to
    luck, since one point outside the grid makes the whole COPY fail in the cell trigger.
    """
    lon = np.empty(len(cell))
    lat = np.empty(len(cell))
    order = np.argsort(cell, kind="stable")
    bounds_at = np.searchsorted(cell[order], np.arange(len(county.cells) + 1))
    for c in np.flatnonzero(np.diff(bounds_at)):
        slots = order[bounds_at[c]:bounds_at[c + 1]]
        x0, y0, x1, y1 = county.bounds[c]
        got_x, got_y, need = [], [], len(slots)
        while need > 0:
            m = int(need / county.fill[c] * 1.2) + 8
            x = x0 + rng.random(m) * (x1 - x0)
            y = y0 + rng.random(m) * (y1 - y0)
            inside = shapely.contains_xy(county.shapes[c], x, y)
            got_x.append(x[inside][:need])
            got_y.append(y[inside][:need])
            need -= len(got_x[-1])
        lon[slots] = np.concatenate(got_x)
        lat[slots] = np.concatenate(got_y)
    return lon, lat


def chunk_rows(rng: np.random.Generator, county: County, region_code: str, n: int, now: int,
               times: TimeText) -> tuple[io.StringIO, io.StringIO]:
    """CSV text of n incidents and of their timeline events, as they stand at ``now``."""
    cell = rng.choice(len(county.cells), size=n, p=county.weights)
    category = rng.choice(len(county.categories), size=n, p=county.category_p)
    lon, lat = sample_points(rng, county, cell)
    received = tl.sample_received(rng, category, county.categories, now)
    # Rows go in (cell, time) order with ids ascending alongside: the cell trigger, the GiST and
    # btree indexes and the events' foreign-key lookups then touch neighbouring pages, not random ones.
    order = np.lexsort((received, cell))
    cell, category, lon, lat, received = (a[order] for a in (cell, category, lon, lat, received))
    observed = received - np.minimum(rng.exponential(40 * 60, n), 6 * tl.HOUR).astype(np.int64)
    plan = tl.plan(rng, received)
    snap = tl.snapshot(plan, now)
    ids = sorted(uuid4_hex(rng, n))

    source = rng.choice(len(SOURCES), size=n, p=SOURCE_SHARES)
    pick = county.cand_start[cell] + (rng.random(n) * county.cand_count[cell]).astype(np.int64)
    worker = county.cand_worker[pick]  # the cell's worker: reporter and grid-level handler
    by_worker = source == 0
    variant = rng.integers(0, 2, n)
    descriptions = np.array([DESCRIPTIONS.get(c, (c, c))[v] for c in county.categories for v in (0, 1)],
                            dtype=object)
    dept = county.dept_code[category]
    level_text = np.array(["", "1", "2", "3", "4"], dtype=object)
    solved = np.where(snap.resolved, plan.solved_level, 0)
    incidents = csv_text([
        ids, [region_code] * n, np.array(county.categories, dtype=object)[category].tolist(),
        descriptions[2 * category + variant].tolist(), ewkb_hex(lon, lat),
        county.cells[cell].tolist(), times(observed), times(received),
        np.array(tl.STATES, dtype=object)[snap.state].tolist(), level_text[snap.handling_level].tolist(),
        times(snap.due_at), np.where(snap.with_department, dept, "").tolist(),
        np.where(by_worker, county.worker_ids[worker], "").tolist(),
        times(plan.at[:, tl.RESOLVE], snap.resolved), times(snap.closed_at, snap.closed_at >= 0),
        level_text[solved].tolist(), np.array(SOURCES, dtype=object)[source].tolist(), ["t"] * n,
    ])

    # Events: one row per step that happened, in (incident, step) order, which is time order.
    row, slot = np.nonzero(snap.happened)
    to_state = tl.TO_STATE[slot]
    from_state = np.roll(to_state, 1)
    first = slot == tl.REPORT
    states = np.array(tl.STATES, dtype=object)
    worker_actor = county.worker_actor[worker]
    dept_actor = np.array([f"dept:{d}" for d in county.dept_code], dtype=object)[category]
    handler = np.where(plan.dispatched, dept_actor, worker_actor)[row]
    centre4 = county.centre[cell, 4][row]
    centre_solved = county.centre[cell, np.maximum(plan.solved_level, 1)][row]
    reporter = np.where(by_worker, worker_actor, np.array([f"citizen:{s}" for s in SOURCES], dtype=object)[source])[row]
    actor = np.select(
        [slot == tl.REPORT, np.isin(slot, (tl.ACCEPT, tl.REJECT)), np.isin(slot, (tl.ESC3, tl.ESC2, tl.ESC1)),
         np.isin(slot, (tl.START, tl.ARRIVE, tl.RESOLVE))],
        [reporter, centre4, "system", handler], default=centre_solved)
    # where the handler stood: a department on arrival, the grid worker when starting on the spot
    located = (slot == tl.ARRIVE) | ((slot == tl.START) & ~plan.dispatched[row])
    spread = ARRIVE_SPREAD_M / 111_320.0  # degrees of latitude per metre, roughly
    at_row = row[located]
    ax = lon[at_row] + rng.uniform(-spread, spread, len(at_row)) / np.cos(np.radians(lat[at_row]))
    ay = lat[at_row] + rng.uniform(-spread, spread, len(at_row))
    geom = np.full(len(row), "", dtype=object)
    geom[located] = ewkb_hex(ax, ay)
    notes = np.full(len(tl.SLOTS), "", dtype=object)
    for s, text in NOTES.items():
        notes[s] = text
    m = len(row)
    events = csv_text([
        np.array(ids, dtype=object)[row].tolist(), [region_code] * m, times(plan.at[row, slot]),
        np.array(tl.SLOTS, dtype=object)[slot].tolist(), np.where(first, "", states[from_state]).tolist(),
        states[to_state].tolist(), level_text[plan.level[row, slot]].tolist(), actor.tolist(),
        notes[slot].tolist(), geom.tolist(),
    ])
    return incidents, events


# What a deferred bulk load rebuilds after its COPY (besides every secondary index and foreign key of
# the two tables): the statement triggers that would capture every row of each COPY.
DEFERRED_TRIGGERS = ("incident_rollup_insert", "incident_verify_cells", "incident_event_notify")
# The roll-ups the deferred load merges into with their keys, index and foreign key deferred, and
# the folded rows' triggers, whose unit sums the load merges itself (0047).
ROLLUPS = ("incident_rollup_folded", "incident_rollup_unit")
ROLLUP_TRIGGERS = ("incident_rollup_unit_insert", "incident_rollup_unit_update", "incident_rollup_unit_delete")


def _should_defer(cur, n: int) -> bool:
    """Defer when the load at least doubles the incident table (rebuilding costs the whole table)."""
    cur.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'incident'::regclass")
    return n >= cur.fetchone()[0]


def _after_deferred(cur, features, events: int) -> None:
    """The deferred load's checks and sums: cells in one statement; the roll-ups summed once and
    merged with their keys deferred (0047); then every feature rebuilt set-wise."""
    cur.execute("SET LOCAL work_mem = '256MB'")  # the roll-up's groups in memory, not 65 batches on disk
    cur.execute(sql("bulk_verify_after"))
    bad = cur.fetchone()
    if bad is not None:
        raise ValueError(f"incident {bad[0]} at {bad[3]} claims cell {bad[1]} but the grid puts it in "
                         f"{bad[2] or 'no cell (outside the grid)'}")
    cur.execute(sql("bulk_rollup_fresh"))
    rollups = defer(cur, ROLLUPS, ROLLUP_TRIGGERS, keyed=ROLLUPS)
    cur.execute(sql("bulk_rollup_merge"))
    cur.execute("SELECT incident_rollup_unit_merge('SELECT * FROM bulk_rollup_fresh')")
    cur.execute("DROP TABLE bulk_rollup_fresh")
    restore(cur, features + rollups)
    cur.execute(sql("bulk_notify_after"), {"events": events})
    cur.execute("ANALYZE incident, incident_event")  # the planner's statistics, before the first read


def settle(conn) -> None:
    """After a bulk load is committed: VACUUM (ANALYZE) the incident tables, so the dashboard's
    counts are index-only scans at once (the visibility map) rather than after autovacuum."""
    conn.commit()
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) incident, incident_event")
    finally:
        conn.autocommit = autocommit


def chunk_text(county: County, region_code: str, seed: int, index: int, size: int, now: int,
               times: TimeText, encoding: str = "utf-8") -> tuple[bytes, bytes]:
    """Chunk ``index`` of a load (``size`` incidents): the CSV of its incidents and events in the
    connection's client ``encoding``. Encoded where it is made (a worker process): the loading
    process hands COPY the bytes as they came, with no decoding and encoding of ~50 MB a chunk."""
    incidents, events = chunk_rows(np.random.default_rng([seed, index]), county, region_code, size, now, times)
    return incidents.getvalue().encode(encoding), events.getvalue().encode(encoding)


GENERATORS = 2  # worker processes making chunks while the server ingests the previous ones
AHEAD = 2  # chunks made ahead of the COPY: memory stays a few chunks' text at any n


def load_incidents(conn, region_code: str, n: int, seed: int, now: datetime, progress=None,
                   deferred: bool | None = None) -> int:
    """Generate n incidents with their timelines for ``region_code`` and COPY them; return n.

    Deterministic for (seed, now, database contents). Runs in the caller's transaction (no commit).
    ``deferred`` (default: when the load at least doubles the table): drop both tables' secondary
    indexes, foreign keys and row-capturing statement triggers, COPY, then check cells and fill the
    roll-up in one statement each and rebuild them all (db.bulk.defer/restore); else each COPY pays
    for them as it goes (the same rows and sums either way).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if n <= 0:
        return 0
    county = read_county(conn, region_code)
    now_s = int(now.timestamp())
    # due dates run up to ~16 days after the newest report; observed times a few hours before
    times = TimeText(now_s - 366 * tl.DAY, now_s + 20 * tl.DAY)
    task = progress.add_task(f"incidents {region_code}", total=n) if progress else None

    sizes = [min(CHUNK, n - start) for start in range(0, n, CHUNK)]
    encoding = encodings[conn.encoding]  # the server reads COPY bytes in the client encoding (UTF8, GBK…)

    # Worker processes make the next chunks while this one is COPYed: generation (numpy and
    # str.join, mostly under the GIL) runs on its own cores beside the server's, not in turns
    # with the COPY's feeding thread. Chunk text is the same as made in-process (seeded per chunk).
    # A single chunk is made in a thread: starting the workers would cost more than it saves.
    pool: Executor = ProcessPoolExecutor(max_workers=GENERATORS, mp_context=multiprocessing.get_context("forkserver")) \
        if len(sizes) > 1 else ThreadPoolExecutor(max_workers=1)
    with pool, conn.cursor() as cur:
        # Set-based checks for this transaction (0008_bulk_load.sql): the cells this generator
        # picked are verified per COPY in one join, and the timeline key once at the end.
        cur.execute("SET LOCAL onemap.bulk_verify = on")
        if deferred is None:
            deferred = _should_defer(cur, n)
        features = defer(cur, ("incident", "incident_event"), DEFERRED_TRIGGERS) if deferred else []
        if not deferred:
            cur.execute(sql("bulk_event_fk_drop"))
        events = 0
        pending: list[Future] = []
        for index, size in enumerate(sizes):
            while len(pending) < AHEAD + 1 and index + len(pending) < len(sizes):
                k = index + len(pending)
                pending.append(pool.submit(chunk_text, county, region_code, seed, k, sizes[k], now_s, times,
                                           encoding))
            incidents, timeline = pending.pop(0).result()
            copy_rows(cur, "incident", INCIDENT_COLUMNS, io.BytesIO(incidents))
            events += copy_rows(cur, "incident_event", EVENT_COLUMNS, io.BytesIO(timeline))
            del incidents, timeline
            if progress:
                progress.advance(task, size)
        if deferred:
            _after_deferred(cur, features, events)
        else:
            cur.execute(sql("bulk_event_fk_add"))
        cur.execute("SET LOCAL onemap.bulk_verify = off")
    return n
