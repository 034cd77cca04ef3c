"""Departments, facilities, grid workers and their patrol fixes for the demo county."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely

from demo import names
from demo.county import County, Unit
from demo.timelines import LOCAL_OFFSET
from geo import tiling

# One department per kind (the kinds the incident categories are routed to).
DEPARTMENTS = [
    ("public_security", "鄂托克前旗公安局", "Public Security Bureau"),
    ("justice", "鄂托克前旗司法局", "Justice Bureau (mediation)"),
    ("civil_affairs", "鄂托克前旗民政局", "Civil Affairs Bureau"),
    ("emergency", "鄂托克前旗应急管理局", "Emergency Management Bureau"),
    ("grassland", "鄂托克前旗林业和草原局", "Forestry and Grassland Bureau"),
    ("natural_resources", "鄂托克前旗自然资源局", "Natural Resources Bureau"),
    ("transport", "鄂托克前旗交通运输局", "Transport Bureau"),
    ("health", "鄂托克前旗卫生健康委员会", "Health Commission"),
    ("education", "鄂托克前旗教育体育局", "Education and Sports Bureau"),
    ("market", "鄂托克前旗市场监督管理局", "Market Supervision Bureau"),
    ("environment", "鄂尔多斯市生态环境局鄂托克前旗分局", "Ecology and Environment Branch"),
    ("housing", "鄂托克前旗住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
]
WORKERS = 474  # the seed: 474 full-time grid workers for 401 cells


@dataclass
class Place:
    """A point feature to load: a department base or a facility."""

    kind: str
    name: str
    name_en: str
    unit_code: str
    lon: float
    lat: float


@dataclass
class Worker:
    """A grid worker assigned to a cell."""

    code: str
    name: str
    phone: str
    unit_code: str


def _near(rng, centre, radius_m: float, inside) -> tuple[float, float]:
    """A point within ``radius_m`` of ``centre`` that lies inside ``inside``."""
    scale = np.array([tiling.lon_scale(centre[1]), tiling.M_PER_DEG_LAT])
    for _ in range(200):
        p = np.asarray(centre) + rng.uniform(-radius_m, radius_m, 2) / scale
        if shapely.contains_xy(inside, p[0], p[1]):
            return float(p[0]), float(p[1])
    return float(centre[0]), float(centre[1])


def departments(rng, county: County) -> list[Place]:
    """Department bases around the banner seat."""
    seat_town = county.level(2)[0]
    return [Place(kind, zh, en, seat_town.code, *_near(rng, seat_town.centre, 1200, seat_town.geom))
            for kind, zh, en in DEPARTMENTS]


def facilities(rng, county: County) -> list[Place]:
    """Governance centres (24), police stations, schools, clinics and mediation stations."""
    towns, villages = county.level(2), county.level(3)
    out: list[Place] = []

    def add(kind, zh, en, unit: Unit, radius=400.0):
        out.append(Place(kind, zh, en, unit.code, *_near(rng, unit.centre, radius, unit.geom)))

    add("governance_centre", "鄂托克前旗社会治理综合指挥中心", "Banner Comprehensive Governance Centre",
        towns[0], 300)
    add("police_station", "鄂托克前旗公安局指挥中心", "Banner Public Security Command", towns[0], 600)
    add("mediation_station", "鄂托克前旗矛盾纠纷多元化解中心", "Banner Mediation Centre", towns[0], 600)
    add("clinic", "鄂托克前旗人民医院", "Banner People's Hospital", towns[0], 900)
    add("clinic", "鄂托克前旗蒙医医院", "Banner Mongolian Medicine Hospital", towns[0], 900)
    add("school", "鄂托克前旗第一中学", "Banner No. 1 Middle School", towns[0], 1200)
    add("school", "鄂托克前旗蒙古族学校", "Banner Mongolian School", towns[0], 1200)
    for t in towns:
        short, short_en = t.name.removesuffix("镇"), t.name_en.removesuffix(" Town")
        add("governance_centre", f"{t.name}综治中心", f"{short_en} Town Governance Centre", t, 500)
        add("police_station", f"{short}派出所", f"{short_en} Police Station", t, 700)
        add("mediation_station", f"{short}警调对接室", f"{short_en} Police-Justice Mediation Room", t, 700)
        add("clinic", f"{t.name}卫生院", f"{short_en} Town Health Centre", t, 800)
        add("school", f"{t.name}中心小学", f"{short_en} Central Primary School", t, 1000)
    rural = sorted((v for v in villages if v.kind != "community"), key=lambda v: -v.population)
    for v in rural[:19]:  # 1 banner + 4 towns + 19 villages = the seed's 24 centres
        add("governance_centre", f"{v.name}综治服务站", f"{v.name_en} Governance Station", v, 200)
    for v in rural[:12]:
        add("mediation_station", f"{v.name}人民调解室", f"{v.name_en} Mediation Station", v, 300)
    for v in rural[:22]:
        add("clinic", f"{v.name}卫生室", f"{v.name_en} Clinic", v, 300)
    for v in rural[:4]:
        add("school", f"{v.name}教学点", f"{v.name_en} Teaching Point", v, 300)
    add("police_station", "上海庙经济开发区警务站", "Shanghaimiao Industrial Park Police Post", towns[1], 4000)
    return out


def workers(rng, county: County) -> list[Worker]:
    """One worker per cell, and the rest to the most populous (town) cells."""
    cells = county.level(4)
    extra = sorted(cells, key=lambda c: -c.population)[: WORKERS - len(cells)]
    units = [c.code for c in cells] + [c.code for c in extra]
    people = names.person_names(rng, len(units))
    phones = rng.integers(0, 10**8, len(units))
    prefixes = rng.choice(["139", "151", "158", "177", "186", "189"], len(units))
    return [Worker(f"W{county.units[0].code}{i + 1:04d}", n, f"{p}{int(x):08d}", u)
            for i, (n, p, x, u) in enumerate(zip(people, prefixes, phones, units, strict=True))]


def patrol_fixes(rng, county: County, roster: list[Worker], now: datetime,
                 days: int = 7) -> list[tuple[int, datetime, float, float, float]]:
    """(worker index, time, lon, lat, accuracy m): daily patrol walks inside each worker's cell
    over the last ``days`` days, most workers out on most days (daytime in the region's zone)."""
    cells = {c.code: c for c in county.level(4)}
    out = []
    offset = timedelta(seconds=LOCAL_OFFSET)
    local_midnight = (now + offset).replace(hour=0, minute=0, second=0, microsecond=0) - offset
    for day in range(days):
        start = local_midnight - timedelta(days=day) + timedelta(hours=8.5)  # 08:30 local
        for i, w in enumerate(roster):
            if rng.random() < 0.15:  # off duty or no signal that day
                continue
            cell = cells[w.unit_code]
            pts = tiling.sample_points(cell.geom, 12, rng, batch=256)
            pts = pts[np.argsort(pts[:, 0] + pts[:, 1])]  # a rough sweep, not random jumps
            for j, (x, y) in enumerate(pts):
                at = start + timedelta(minutes=25 * j + float(rng.uniform(0, 10)))
                if at <= now:
                    out.append((i, at, float(x), float(y), float(rng.uniform(3, 25))))
    return out
