"""The demo county's registries: houses, households and people matching every cell's totals.

Synthetic (``synthetic = true`` on every row) and deterministic for a seed: each cell gets exactly
its ``population`` people in its ``households`` households (so the registry's per-cell counts equal
the cell totals the dashboard shows), houses at random points inside the cell (one per household
in the steppe, apartment blocks of about eight households in the town communities), Mongolian and
Han names, ID numbers with a valid GB 11643 check digit whose birth date and sex are the person's,
and the special groups at low rates with their follow-ups; one house in eight has a small
footprint around its point. Loaded with COPY (a few seconds).
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import date, datetime, timedelta, timezone

import numpy as np
from psycopg2 import sql as psql

from db.bulk import copy_rows, csv_text, ewkb_hex, uuid4_hex
from db.core import sql
from demo import names
from domain import idcard
from geo import tiling

AREA = "150623"
MIGRANT_AREAS = ("640104", "640205", "152701", "610802", "150602", "620102", "130102")
RESIDENCE_P = {"registered": 0.85, "migrant": 0.13, "overseas": 0.002, "unregistered": 0.018}
SPECIAL_P = {"released_prisoner": 0.0015, "community_correction": 0.0005, "mental_disorder": 0.004,
             "drug_user": 0.0008, "hiv": 0.0002}
YOUTH_P = 0.005  # at-risk youth, among people aged 12–25
PROVINCE = "内蒙古自治区鄂尔多斯市鄂托克前旗"
SEQ = {"reg_house": "reg_house_id_seq", "reg_household": "reg_household_id_seq",
       "reg_person": "reg_person_id_seq", "reg_special_group": "reg_special_group_id_seq"}


def _ids(cur, table: str, n: int) -> np.ndarray:
    """Reserve ``n`` ids of ``table``'s sequence; their values."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cur.execute("SELECT nextval(%s)", (SEQ[table],))
    start = cur.fetchone()[0]
    cur.execute("SELECT setval(%s, %s)", (SEQ[table], start + n - 1))
    return np.arange(start, start + n, dtype=np.int64)


def _check_digits(first17: np.ndarray) -> list[str]:
    """GB 11643 check characters of an (n, 17) digit array."""
    total = (first17 * np.array(idcard.WEIGHTS)).sum(axis=1) % 11
    return [idcard.CHECK[t] for t in total.tolist()]


def _id_numbers(rng, areas: list[str], born: np.ndarray, male: np.ndarray) -> list[str]:
    """Unique ID numbers for people born on ``born`` (datetime64[D]) with their sex."""
    n = len(areas)
    ymd = np.datetime_as_string(born, unit="D")
    seq = rng.integers(0, 500, n) * 2 + male.astype(int)  # odd for men
    while True:
        first = [f"{a}{d[:4]}{d[5:7]}{d[8:10]}{s:03d}" for a, d, s in zip(areas, ymd.tolist(), seq.tolist(),
                                                                          strict=True)]
        _, first_idx, counts = np.unique(first, return_index=True, return_counts=True)
        dup = np.ones(n, dtype=bool)
        dup[first_idx] = False  # every later copy of a number is drawn again
        if not dup.any() and counts.max() == 1:
            break
        seq[dup] = rng.integers(0, 500, int(dup.sum())) * 2 + male[dup].astype(int)
    digits = np.frombuffer("".join(first).encode(), dtype=np.uint8).reshape(n, 17) - 48
    return [f + c for f, c in zip(first, _check_digits(digits.astype(np.int64)), strict=True)]


def _names(rng, n: int, mongol: np.ndarray, surname: np.ndarray) -> list[str]:
    """Names: Mongolian given names alone, Han surname + one or two given characters."""
    given = np.array(names.GIVEN)
    g1 = given[rng.integers(0, len(given), n)]
    g2 = np.where(rng.random(n) < 0.6, given[rng.integers(0, len(given), n)], "")
    mongol_names = np.array(names.MONGOL_NAMES)[rng.integers(0, len(names.MONGOL_NAMES), n)]
    return [m if is_m else s + a + b for m, is_m, s, a, b in
            zip(mongol_names.tolist(), mongol.tolist(), surname.tolist(), g1.tolist(), g2.tolist(), strict=True)]


def _houses(rng, cells, urban: dict[str, bool]):
    """Per cell: the house points and, for each household, the index of its house."""
    lon, lat, house_cell, hh_house, hh_cell = [], [], [], [], []
    base = 0
    for c in cells:
        if c.households == 0:
            continue
        n_houses = max(1, c.households // 8) if urban[c.code] else c.households
        pts = tiling.sample_points(c.geom, n_houses, rng, batch=max(64, 4 * n_houses))
        lon.append(pts[:, 0])
        lat.append(pts[:, 1])
        house_cell += [c.code] * n_houses
        hh_house.append(base + (np.arange(c.households) % n_houses))
        hh_cell += [c.code] * c.households
        base += n_houses
    return (np.concatenate(lon), np.concatenate(lat), house_cell, np.concatenate(hh_house), hh_cell)


def _members(rng, cells) -> tuple[np.ndarray, list[str]]:
    """For each person, the index of their household (every household has at least one)."""
    owner, cell_of = [], []
    base = 0
    for c in cells:
        if c.population == 0:
            continue
        sizes = 1 + rng.multinomial(c.population - c.households, np.full(c.households, 1 / c.households))
        owner.append(base + np.repeat(np.arange(c.households), sizes))
        cell_of += [c.code] * c.population
        base += c.households
    return np.concatenate(owner), cell_of


def _births(rng, head: np.ndarray, today: date) -> np.ndarray:
    """Birth dates: heads of household 25–80 years old, others 0–85."""
    n = len(head)
    age_days = np.where(head, rng.uniform(25, 80, n), rng.uniform(0, 85, n) ** 1.05 / 85 ** 0.05) * 365.25
    return np.datetime64(today) - age_days.astype("timedelta64[D]") - 1


def generate(rng, county, now: datetime) -> dict:
    """Every column of the demo registries, as Python lists and numpy arrays (no database)."""
    cells = county.level(4)
    village = {u.code: u for u in county.level(3)}
    urban = {c.code: village[c.parent_code].kind == "community" for c in cells}
    h_lon, h_lat, house_cell, hh_house, hh_cell = _houses(rng, cells, urban)
    owner, p_cell = _members(rng, cells)
    n = len(owner)
    head = np.r_[True, owner[1:] != owner[:-1]]
    second = np.r_[False, head[:-1]] & ~head
    today = now.date()
    born = _births(rng, head, today)
    male = rng.random(n) < 0.51
    male[second] = ~male[np.flatnonzero(second) - 1]  # a spouse of the other sex
    hh_mongol = rng.random(len(hh_house)) < 0.3
    mongol = hh_mongol[owner] ^ (rng.random(n) < 0.1)
    surnames = np.array(list(names.SURNAMES))[rng.integers(0, len(names.SURNAMES), len(hh_house))]
    surname = np.where(second | (rng.random(n) < 0.25), np.array(list(names.SURNAMES))[
        rng.integers(0, len(names.SURNAMES), n)], surnames[owner])
    ethnic = np.where(mongol, "蒙古族", np.where(rng.random(n) < 0.03, "回族", "汉族"))
    kinds = list(RESIDENCE_P)
    residence = np.array(kinds)[rng.choice(len(kinds), n, p=list(RESIDENCE_P.values()))]
    areas = [AREA if r != "migrant" else MIGRANT_AREAS[i % len(MIGRANT_AREAS)]
             for i, r in enumerate(residence.tolist())]
    has_id = (residence == "registered") | (residence == "migrant")  # overseas: a passport, not an ID
    ids = _id_numbers(rng, areas, born, male)
    ages = ((np.datetime64(today) - born).astype(int) / 365.25).astype(int)
    phones = [f"1{d}{x:09d}" for d, x in zip(rng.choice(list("3578"), n).tolist(),
                                              rng.integers(0, 10**9, n).tolist(), strict=True)]
    has_phone = (ages >= 16) & (rng.random(n) < 0.85)
    relation = np.where(head, "户主", np.where(second & (ages >= 18), "配偶", "家庭成员"))
    address = [PROVINCE + village[c[:12]].name if r == "registered" else "" for c, r in
               zip(p_cell, residence.tolist(), strict=True)]
    return {"house": (h_lon, h_lat, house_cell, urban), "household": (hh_house, hh_cell), "n": n,
            "owner": owner, "cell": p_cell, "name": _names(rng, n, mongol, surname), "male": male,
            "born": born, "ethnic": ethnic.tolist(), "residence": residence.tolist(), "has_id": has_id,
            "id": ids, "phone": phones, "has_phone": has_phone, "relation": relation.tolist(),
            "address": address, "ages": ages}


def _special(rng, g: dict, now: datetime) -> list[tuple[int, str, date]]:
    """(person index, kind, since) for the special groups, at low rates."""
    out = []
    adult = g["ages"] >= 18
    for kind, p in SPECIAL_P.items():
        for i in np.flatnonzero(adult & (rng.random(g["n"]) < p)).tolist():
            out.append((i, kind, now.date() - timedelta(days=int(rng.integers(30, 1500)))))
    youth = (g["ages"] >= 12) & (g["ages"] <= 25)
    for i in np.flatnonzero(youth & (rng.random(g["n"]) < YOUTH_P)).tolist():
        out.append((i, "at_risk_youth", now.date() - timedelta(days=int(rng.integers(30, 700)))))
    return out


BULK_TABLES = ["reg_house", "reg_household", "reg_person", "reg_person_secret", "reg_special_group", "reg_followup"]


@contextlib.contextmanager
def _keys_checked_after(cur):
    """Drop the registry tables' foreign keys and secondary indexes for a bulk load and restore
    them when it ends (keys validated in one pass each, indexes built by one sort each): COPY then
    checks no key and inserts into no index row by row. ACCESS EXCLUSIVE until commit."""
    cur.execute(sql("reg_bulk_fks"), {"tables": BULK_TABLES})
    keys = cur.fetchall()
    cur.execute(sql("reg_bulk_indexes"), {"tables": BULK_TABLES})
    indexes = cur.fetchall()
    for name, table, _definition in keys:
        cur.execute(psql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(psql.Identifier(table),
                                                                         psql.Identifier(name)))
    for name, _definition in indexes:
        cur.execute(psql.SQL("DROP INDEX {}").format(psql.Identifier(name)))
    yield
    for _name, definition in indexes:  # definitions from the catalog, not from input
        cur.execute(psql.SQL(definition))
    for name, table, definition in keys:  # definitions from the catalog, not from input
        cur.execute(psql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(psql.Identifier(table), psql.Identifier(name))
                    + psql.SQL(definition))


def _q(text: str) -> str:
    """A CSV field, quoted (names and addresses may hold anything but quotes are doubled)."""
    return '"' + text.replace('"', '""') + '"'


def load_registry(cur, county, region_code: str, seed: int, now: datetime) -> dict[str, int]:
    """Generate and COPY the demo registries in the caller's transaction; row counts."""
    rng = np.random.default_rng(seed + 15)
    g = generate(rng, county, now)
    with _keys_checked_after(cur):
        return _copy(cur, rng, g, region_code, now)


def _copy(cur, rng, g: dict, region_code: str, now: datetime) -> dict[str, int]:
    """COPY the generated registries (keys checked by the caller afterwards)."""
    h_lon, h_lat, house_cell, urban = g["house"]
    hh_house, hh_cell = g["household"]
    house_ids = _ids(cur, "reg_house", len(house_cell))
    hh_ids = _ids(cur, "reg_household", len(hh_cell))
    person_ids = _ids(cur, "reg_person", g["n"])
    n_h = len(house_cell)
    street = rng.integers(1, 300, n_h)
    addr = [f"{'幢' if urban[c] else '号'}" for c in house_cell]
    copy_rows(cur, "reg_house", ("id", "uid", "region_code", "cell_code", "address", "use", "floors", "geom",
                                 "synthetic"), csv_text([
        list(map(str, house_ids.tolist())), uuid4_hex(rng, n_h), [region_code] * n_h, house_cell,
        [_q(f"{c[-6:]}网格{s}{a}") for c, s, a in zip(house_cell, street.tolist(), addr, strict=True)],
        ["residential" if not urban[c] or rng_v > 0.1 else "mixed"
         for c, rng_v in zip(house_cell, rng.random(n_h).tolist(), strict=True)],
        [str(int(f)) if urban[c] else "1" for c, f in zip(house_cell, rng.integers(3, 18, n_h).tolist(),
                                                          strict=True)],
        ewkb_hex(h_lon, h_lat), ["t"] * n_h]))
    n_hh = len(hh_cell)
    copy_rows(cur, "reg_household", ("id", "uid", "region_code", "house_id", "cell_code", "kind", "synthetic"),
              csv_text([list(map(str, hh_ids.tolist())), uuid4_hex(rng, n_hh), [region_code] * n_hh,
                        list(map(str, house_ids[hh_house].tolist())), hh_cell, ["family"] * n_hh, ["t"] * n_hh]))
    cur.execute("SELECT key FROM reg_key WHERE region_code = %s", (region_code,))
    key = bytes(cur.fetchone()[0])
    n = g["n"]
    ids = [i if has else "" for i, has in zip(g["id"], g["has_id"].tolist(), strict=True)]
    phones = [p if has else "" for p, has in zip(g["phone"], g["has_phone"].tolist(), strict=True)]
    copy_rows(cur, "reg_person", (
        "id", "uid", "region_code", "household_id", "cell_code", "name", "sex", "birth_date", "ethnicity",
        "residence", "registered_address", "relation", "id_masked", "id_hash", "phone_masked", "synthetic"),
        csv_text([list(map(str, person_ids.tolist())), uuid4_hex(rng, n), [region_code] * n,
                  list(map(str, hh_ids[g["owner"]].tolist())), g["cell"], [_q(x) for x in g["name"]],
                  ["M" if m else "F" for m in g["male"].tolist()], np.datetime_as_string(g["born"]).tolist(),
                  g["ethnic"], g["residence"], [_q(a) for a in g["address"]], g["relation"],
                  [idcard.mask(i) or "" for i in ids],
                  [hmac.new(key, i.encode(), hashlib.sha256).hexdigest() if i else "" for i in ids],
                  [idcard.mask_phone(p) or "" for p in phones], ["t"] * n]))
    keep = [k for k in range(n) if ids[k] or phones[k]]
    copy_rows(cur, "reg_person_secret", ("person_id", "region_code", "id_number", "phone"), csv_text([
        [str(person_ids[k]) for k in keep], [region_code] * len(keep), [ids[k] for k in keep],
        [phones[k] for k in keep]]))
    special = _special(rng, g, now)
    sg_ids = _ids(cur, "reg_special_group", len(special))
    copy_rows(cur, "reg_special_group", ("id", "region_code", "person_id", "cell_code", "kind", "since", "synthetic"),
              csv_text([list(map(str, sg_ids.tolist())), [region_code] * len(special),
                        [str(person_ids[i]) for i, _, _ in special], [g["cell"][i] for i, _, _ in special],
                        [k for _, k, _ in special], [s.isoformat() for _, _, s in special], ["t"] * len(special)]))
    follow = []
    for sid, (_i, kind, _s) in zip(sg_ids.tolist(), special, strict=True):
        recent = rng.random() < 0.8  # about four in five followed up within the last 30 days
        for _ in range(int(rng.integers(1, 4))):
            days = rng.uniform(0, 29) if recent else rng.uniform(31, 120)
            at = (now - timedelta(days=float(days))).astimezone(timezone.utc)
            follow.append((sid, "control" if kind in ("community_correction", "drug_user") else "help", at))
            recent = rng.random() < 0.5
    copy_rows(cur, "reg_followup", ("region_code", "special_id", "kind", "at", "note", "synthetic"), csv_text([
        [region_code] * len(follow), [str(s) for s, _, _ in follow], [k for _, k, _ in follow],
        [a.isoformat() for _, _, a in follow], ['"走访 (synthetic)"'] * len(follow), ["t"] * len(follow)]))
    cur.execute(sql("reg_demo_footprints"), {"region_code": region_code})
    footprints = cur.rowcount
    cur.execute("INSERT INTO reg_school (region_code, cell_code, facility_id, name, stage, students, geom, synthetic) "
                "SELECT f.region_code, grid_cell_at(f.region_code, f.geom), f.id, f.name, 'primary', 300, f.geom, true "
                "FROM facility f WHERE f.region_code = %s AND f.kind = 'school' "
                "AND grid_cell_at(f.region_code, f.geom) IS NOT NULL", (region_code,))
    return {"reg_house": n_h, "reg_household": n_hh, "reg_person": n, "reg_special_group": len(special),
            "reg_followup": len(follow), "reg_house_footprint": footprints}


def link_incidents(cur, region_code: str, limit: int = 2000) -> dict[str, int]:
    """After the incidents: file the recent dispute incidents as disputes (with the nearest mediation
    station) and link recent incidents to the nearest house of their cell; row counts."""
    cur.execute(sql("reg_demo_disputes"), {"region_code": region_code, "limit": limit})
    disputes, links = cur.fetchone()
    return {"reg_dispute": disputes, "reg_incident_link": links}
