"""Validation of a set of grid units: codes, parents, geometry, containment, overlaps, gaps.

Pure: no I/O. Geometries are shapely, in EPSG:4326 (lon/lat degrees). Overlaps, gaps and
containment are computed in lon/lat, where edges are straight exactly as PostGIS stores them,
and the resulting pieces are measured in m² on the GRS80 ellipsoid (:func:`area_m2`), so a
tolerance in m² means the same thing at every latitude. Why not an equal-area projection: it
bends lon/lat-straight edges, so parent and child edges with different vertices (or a sliver
between them) gain square metres that are not there. The default tolerance is 1 m²: a sliver
smaller than that is floating-point noise along shared boundaries, anything larger is a
drawing mistake.

Every offending unit is reported, not only the first, so one run tells the data owner everything
to fix. Messages say what is wrong and what to do about it.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

TOLERANCE_M2 = 1.0
_GRS80_A = 6378137.0  # semi-major axis, m
_GRS80_E2 = 0.00669438002290  # first eccentricity squared
LEVELS = {1: "banner", 2: "town", 3: "village", 4: "cell"}
POLYGONAL = ("Polygon", "MultiPolygon")

# Report order inside one unit: identity first, then geometry, then relations to other units.
KINDS = ("level", "code", "region", "name", "duplicate", "parent", "parent_missing", "parent_level",
         "prefix", "empty", "geometry_type", "invalid", "outside_parent", "overlap", "gap")


@dataclass(frozen=True)
class Unit:
    """One grid unit: GB/T 30428-style code, level 1–4, name, parent code, geometry in EPSG:4326."""

    code: str
    level: int
    name: str
    parent_code: str | None
    geom: BaseGeometry | None

    @property
    def label(self) -> str:
        """Code and name, as people recognise a unit."""
        return f"{self.code} {self.name}" if self.name else self.code


@dataclass(frozen=True)
class Problem:
    """Something wrong with one unit (``code``): its kind and a message that says what to fix."""

    code: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} [{self.kind}] {self.message}"


def code_length(level: int) -> int:
    """Digits in a code of this level: adcode (6) plus 3 per level below the banner."""
    return 6 + 3 * (level - 1)


def code_is_wellformed(code: str, level: int) -> bool:
    """Whether ``code`` is all digits of the length its level needs (as the schema's CHECK)."""
    return re.fullmatch(f"[0-9]{{{code_length(level)}}}", code or "") is not None


def fmt_m2(area: float) -> str:
    """An area in m² for a message: two decimals when small, thousands separated when large."""
    return f"{area:,.2f} m²" if area < 100 else f"{area:,.0f} m²"


def check_units(units: Iterable[Unit], parents: Iterable[Unit] = (),
                existing_children: Iterable[Unit] = (), *, tolerance_m2: float = TOLERANCE_M2,
                region_code: str | None = None) -> list[Problem]:
    """Every problem of ``units``, sorted by code; empty when they are a clean grid.

    ``parents`` are units one level up that are not themselves checked (e.g. already stored);
    ``existing_children`` are stored siblings that stay, so overlaps with them count and they
    help cover their parent. Gaps are checked only for parents with at least one child among
    ``units`` whose children all have usable geometry. Areas are m² (default tolerance 1 m²).
    ``region_code`` (6-digit adcode), when given, must prefix every code.
    """
    units = list(units)
    parents = list(parents)
    existing = list(existing_children)
    tol = f"tolerance {tolerance_m2:g} m²"
    problems = _identity_problems(units, parents, existing, region_code)
    geom_bad: set[int] = set()  # units left out of the geometric checks
    for u in units:
        if _geometry_problem(u, problems) or u.level not in LEVELS:
            geom_bad.add(id(u))
    good = [u for u in units if id(u) not in geom_bad]
    good_existing = [u for u in existing if u.level in LEVELS and _usable(u.geom)]
    lookup = _lookup(parents, units)

    problems += _containment_problems(good, lookup, tolerance_m2, tol)
    problems += _overlap_problems(good, good_existing, tolerance_m2, tol)
    problems += _gap_problems(units, geom_bad, good_existing, lookup, tolerance_m2, tol)
    return sorted(problems, key=lambda p: (p.code, KINDS.index(p.kind) if p.kind in KINDS else 99))


def _usable(geom: BaseGeometry | None) -> bool:
    return (geom is not None and not geom.is_empty and geom.geom_type in POLYGONAL
            and bool(shapely.is_valid(geom)))


def _lookup(parents: Sequence[Unit], units: Sequence[Unit]) -> dict[str, Unit]:
    """Code → unit among parents and units (the first of duplicates wins; duplicates are reported)."""
    found: dict[str, Unit] = {}
    for u in [*parents, *units]:
        found.setdefault(u.code, u)
    return found


def _identity_problems(units: list[Unit], parents: list[Unit], existing: list[Unit],
                       region_code: str | None) -> list[Problem]:
    """Level, code, region, name, duplicate and parent problems (no geometry needed)."""
    out: list[Problem] = []
    lookup = _lookup(parents, units)
    for u in units:
        if u.level not in LEVELS:
            out.append(Problem(u.code, "level", f"{u.label}: level {u.level} does not exist; grid "
                               "levels are 1 banner, 2 town, 3 village, 4 cell"))
            continue
        if not code_is_wellformed(u.code, u.level):
            hint = next((f" (it looks like a level-{lv} code)" for lv in LEVELS
                         if lv != u.level and code_is_wellformed(u.code, lv)), "")
            out.append(Problem(u.code or "?", "code", f"{u.label}: code {u.code!r} is malformed for "
                               f"level {u.level}: expected {code_length(u.level)} digits (6-digit "
                               f"adcode + 3 per level, GB/T 30428){hint}; fix the code"))
        if region_code and not (u.code or "").startswith(region_code):
            out.append(Problem(u.code, "region", f"{u.label}: code does not start with the region's "
                               f"adcode {region_code}; it belongs to another county or is mistyped"))
        if not (u.name or "").strip():
            out.append(Problem(u.code, "name", f"{u.code}: has no name; fill in the name field"))
        out += _parent_problems(u, lookup)
    for code, n in Counter(u.code for u in units).items():
        if n > 1:
            names = ", ".join(sorted({u.name for u in units if u.code == code}))
            out.append(Problem(code, "duplicate", f"code {code} is used by {n} units ({names}); "
                               "codes must be unique: renumber or drop the extra features"))
    stored = {u.code: u for u in existing}
    for code in sorted({u.code for u in units} & stored.keys()):
        out.append(Problem(code, "duplicate", f"{stored[code].label} is already stored; replace it "
                           "explicitly (--replace) or choose another code"))
    return out


def _parent_problems(u: Unit, lookup: dict[str, Unit]) -> list[Problem]:
    """Problems of one unit's link to its parent."""
    if u.level == 1:
        if u.parent_code:
            return [Problem(u.code, "parent", f"{u.label}: a level-1 unit has no parent, but "
                            f"{u.parent_code!r} is given; clear its parent code")]
        return []
    if not u.parent_code:
        return [Problem(u.code, "parent_missing", f"{u.label}: no parent code; a level-{u.level} "
                        f"unit needs its level-{u.level - 1} parent")]
    out = []
    if not (u.code or "").startswith(u.parent_code):
        out.append(Problem(u.code, "prefix", f"{u.label}: code does not start with its parent's code "
                           f"{u.parent_code}; a child's code extends its parent's by 3 digits"))
    parent = lookup.get(u.parent_code)
    if parent is None:
        out.append(Problem(u.code, "parent_missing", f"{u.label}: parent {u.parent_code} does not "
                           f"exist; import level {u.level - 1} first or fix the parent code"))
    elif parent.level != u.level - 1:
        out.append(Problem(u.code, "parent_level", f"{u.label}: parent {parent.label} is level "
                           f"{parent.level}, but a level-{u.level} unit's parent must be level "
                           f"{u.level - 1}"))
    return out


def _geometry_problem(u: Unit, out: list[Problem]) -> bool:
    """Append the unit's geometry problem, if any; True when its geometry is unusable."""
    g = u.geom
    if g is None or g.is_empty:
        out.append(Problem(u.code, "empty", f"{u.label}: geometry is empty; draw its boundary or "
                           "remove the feature"))
    elif g.geom_type not in POLYGONAL:
        out.append(Problem(u.code, "geometry_type", f"{u.label}: geometry is a {g.geom_type}; grid "
                           "units must be Polygon or MultiPolygon"))
    elif not shapely.is_valid(g):
        out.append(Problem(u.code, "invalid", f"{u.label}: invalid geometry ({shapely.is_valid_reason(g)}); "
                           "repair it (shapely.make_valid, ST_MakeValid or QGIS 'Fix geometries') "
                           "and check the result still tiles its neighbours"))
    else:
        return False
    return True


def area_m2(geoms: ArrayLike) -> np.ndarray:
    """Area in m² on the GRS80 ellipsoid of each lon/lat geometry (edges straight in lon/lat).

    Each polygon part's planar area in degrees² times the ellipsoid's area element at the part's
    centroid latitude, M·N·cos φ·(π/180)². Unlike projecting the vertices, this keeps a
    zero-width sliver between two lon/lat-straight edges at (near) zero: a projection bends such
    edges into curves, so vertices along them stop being collinear and a sliver along a
    400 m edge measured ~4 m² on the real banner. For a piece one degree tall the midpoint rule
    errs about 1e-5 of its area.
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = ~shapely.is_empty(parts)  # an empty part has no centroid, and no area
    parts, index = parts[keep], index[keep]
    phi = np.radians(shapely.get_y(shapely.centroid(parts)))
    sin2 = np.sin(phi) ** 2
    # meridian (M) and prime-vertical (N) radii of curvature; M·N·cos φ dφ dλ is the area element
    element = _GRS80_A ** 2 * (1 - _GRS80_E2) * np.cos(phi) / (1 - _GRS80_E2 * sin2) ** 2
    part_m2 = shapely.area(parts) * element * (np.pi / 180) ** 2
    return np.bincount(index, weights=np.nan_to_num(part_m2), minlength=len(geoms))


def where(piece: BaseGeometry) -> str:
    """'near lon E, lat N' for the largest part of a lon/lat piece, to find it on a map."""
    largest = max(getattr(piece, "geoms", [piece]), key=lambda g: g.area)
    p = largest.representative_point()
    return f"near {p.x:.5f} E, {p.y:.5f} N"


def _containment_problems(good: list[Unit], lookup: dict[str, Unit], tolerance_m2: float,
                          tol: str) -> list[Problem]:
    """Units with more than the tolerance of area outside their parent."""
    pairs = [(u, lookup[u.parent_code]) for u in good if u.level > 1 and u.parent_code in lookup
             and lookup[u.parent_code].level == u.level - 1 and _usable(lookup[u.parent_code].geom)]
    if not pairs:
        return []
    children = np.array([c.geom for c, _ in pairs], dtype=object)
    outside = shapely.difference(children, np.array([p.geom for _, p in pairs], dtype=object))
    out = []
    for (child, parent), piece, a_out, a_all in zip(pairs, outside, area_m2(outside),
                                                    area_m2(children), strict=True):
        if a_out > tolerance_m2:
            out.append(Problem(child.code, "outside_parent", f"{child.label}: {fmt_m2(a_out)} "
                               f"({100 * a_out / a_all:.1f}% of it) lies outside its parent "
                               f"{parent.label}, {where(piece)} ({tol}); clip it to the "
                               "parent or fix its parent code"))
    return out


def _overlap_problems(good: list[Unit], existing: list[Unit], tolerance_m2: float, tol: str) -> list[Problem]:
    """Pairs of same-level units overlapping by more than the tolerance (each pair once)."""
    out = []
    for level in sorted({u.level for u in good}):
        new = [u for u in good if u.level == level]
        pool = new + [u for u in existing if u.level == level]
        geoms = np.array([u.geom for u in pool], dtype=object)
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        # keep each pair once, with at least one new unit; a stored unit with the same code is
        # the one being replaced (or a reported duplicate), not a neighbour
        keep = [(i, j) for i, j in zip(left, right, strict=True)
                if i < j and i < len(new) and pool[i].code != pool[j].code]
        if not keep:
            continue
        shared = shapely.intersection(geoms[[i for i, _ in keep]], geoms[[j for _, j in keep]])
        for (i, j), piece, a_shared in zip(keep, shared, area_m2(shared), strict=True):
            if a_shared > tolerance_m2:
                stored = " (stored)" if j >= len(new) else ""
                out.append(Problem(pool[i].code, "overlap", f"{pool[i].label} overlaps "
                                   f"{pool[j].label}{stored} by {fmt_m2(a_shared)}, "
                                   f"{where(piece)} ({tol}); move the shared boundary so "
                                   "each place belongs to one unit"))
    return out


def _gap_problems(units: list[Unit], geom_bad: set[int], existing: list[Unit], lookup: dict[str, Unit],
                  tolerance_m2: float, tol: str) -> list[Problem]:
    """Parents whose area is not covered by their children by more than the tolerance."""
    children: dict[str, list[Unit]] = defaultdict(list)
    blocked: set[str] = set()
    for u in units:
        if not u.parent_code:
            continue
        if id(u) in geom_bad:
            blocked.add(u.parent_code)  # its gap would only echo the child's own problem
        else:
            children[u.parent_code].append(u)
    given = set(children)
    for u in existing:
        if u.parent_code in given:
            children[u.parent_code].append(u)
    out = []
    for code in sorted(given - blocked):
        parent = lookup.get(code)
        kids = children[code]
        if parent is None or not _usable(parent.geom) or parent.level != kids[0].level - 1:
            continue  # reported as a parent problem already
        hole = shapely.difference(parent.geom, shapely.union_all([k.geom for k in kids]))
        a_hole = float(area_m2([hole])[0])
        if a_hole > tolerance_m2:
            out.append(Problem(code, "gap", f"{parent.label}: {fmt_m2(a_hole)} of it is not "
                               f"covered by its {len(kids)} level-{parent.level + 1} units, largest "
                               f"gap {where(hole)} ({tol}); extend a neighbouring unit or add "
                               "one there"))
    return out
