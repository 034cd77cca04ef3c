"""Grid validation on small hand-made polygons: one test per problem kind, and clean tilings."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from geo.datum import gcj02_to_wgs84_geom
from geo.gridcheck import Problem, Unit, area_m2, check_units

REGION = "150623"
BANNER = Unit(REGION, 1, "鄂托克前旗", None, box(107.0, 38.0, 107.2, 38.2))
GEOD = Geod(ellps="WGS84")


def towns(banner: Unit = BANNER) -> list[Unit]:
    """The banner cut 2×2 into four towns, codes 150623001…004."""
    x0, y0, x1, y1 = banner.geom.bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [box(x0, ym, xm, y1), box(xm, ym, x1, y1), box(x0, y0, xm, ym), box(xm, y0, x1, ym)]
    return [Unit(f"{banner.code}{i:03d}", 2, f"镇{i}", banner.code, g) for i, g in enumerate(boxes, 1)]


def kinds(problems: list[Problem]) -> list[tuple[str, str]]:
    """(code, kind) of each problem, for compact asserts."""
    return [(p.code, p.kind) for p in problems]


def m2_in(message: str) -> float:
    """The first area in m² quoted in a message."""
    return float(re.search(r"([\d,.]+) m²", message).group(1).replace(",", ""))


def test_clean_tiling_passes():
    assert check_units([BANNER, *towns()], region_code=REGION) == []


def test_clean_tiling_against_stored_parents_passes():
    assert check_units(towns(), parents=[BANNER]) == []


def test_empty_geometry():
    t = towns()
    t[1] = Unit(t[1].code, 2, t[1].name, REGION, Polygon())
    problems = check_units(t, parents=[BANNER])
    assert kinds(problems) == [("150623002", "empty")]
    assert "镇2" in problems[0].message


def test_invalid_geometry_says_why_and_how_to_fix():
    bowtie = Polygon([(107.0, 38.1), (107.1, 38.2), (107.1, 38.1), (107.0, 38.2)])
    t = towns()
    t[0] = Unit(t[0].code, 2, t[0].name, REGION, bowtie)
    t[3] = Unit(t[3].code, 2, t[3].name, REGION, bowtie)
    problems = check_units(t, parents=[BANNER])
    # every offending unit, not only the first
    assert kinds(problems) == [("150623001", "invalid"), ("150623004", "invalid")]
    assert "Self-intersection" in problems[0].message and "make_valid" in problems[0].message


def test_wrong_geometry_type():
    t = towns()
    t[2] = Unit(t[2].code, 2, t[2].name, REGION, LineString([(107.0, 38.0), (107.1, 38.1)]))
    problems = check_units(t, parents=[BANNER])
    assert kinds(problems) == [("150623003", "geometry_type")]
    assert "LineString" in problems[0].message


def test_malformed_codes_for_their_level():
    t = towns()
    t[0] = Unit("15062300A", 2, "坏码", REGION, t[0].geom)
    t[1] = Unit("150623002001", 2, "村码", REGION, t[1].geom)
    problems = check_units(t, parents=[BANNER])
    assert ("15062300A", "code") in kinds(problems)
    assert ("150623002001", "code") in kinds(problems)
    assert "expected 9 digits" in problems[0].message
    assert any("looks like a level-3 code" in p.message for p in problems)


def test_code_not_prefixed_by_parent():
    t = towns()
    t[0] = Unit("150624001", 2, t[0].name, REGION, t[0].geom)
    problems = check_units(t, parents=[BANNER])
    assert kinds(problems) == [("150624001", "prefix")]
    assert "150623" in problems[0].message


def test_region_mismatch():
    problems = check_units([BANNER, *towns()], region_code="150624")
    assert sorted({p.kind for p in problems}) == ["region"]
    assert len(problems) == 5 and "150624" in problems[0].message


def test_duplicate_codes_within_and_against_stored():
    t = towns()
    t[1] = Unit(t[0].code, 2, "重复镇", REGION, t[1].geom)
    problems = check_units(t, parents=[BANNER])
    dup = [p for p in problems if p.kind == "duplicate"]
    assert len(dup) == 1 and dup[0].code == "150623001" and "重复镇" in dup[0].message
    # a stored sibling with the same code is a duplicate too (and not an "overlap" with itself)
    problems = check_units(towns()[:1], parents=[BANNER], existing_children=towns())
    assert kinds(problems) == [("150623001", "duplicate")]
    assert "already stored" in problems[0].message


def test_missing_parent():
    t = towns()
    t[2] = Unit(t[2].code, 2, t[2].name, None, t[2].geom)
    lost = Unit("150623005001", 3, "孤村", "150623005", box(107.0, 38.0, 107.01, 38.01))
    problems = check_units([*t, lost], parents=[BANNER])
    assert ("150623003", "parent_missing") in kinds(problems)
    assert ("150623005001", "parent_missing") in kinds(problems)
    assert any("150623005 does not exist" in p.message for p in problems)


def test_level_that_does_not_exist_and_parent_not_one_level_up():
    five = Unit("150623001001001001", 5, "五级", "150623001001001", box(107.0, 38.0, 107.01, 38.01))
    skip = Unit("150623001001", 3, "跳级村", REGION, box(107.0, 38.1, 107.1, 38.2))
    problems = check_units([five, skip], parents=[BANNER])
    assert kinds(problems) == [("150623001001", "parent_level"), ("150623001001001001", "level")]
    assert "level 5 does not exist" in problems[1].message


def test_level_one_with_a_parent():
    bad = Unit(REGION, 1, "旗", "150600", BANNER.geom)
    assert kinds(check_units([bad])) == [(REGION, "parent")]


def test_outside_parent_reports_area_in_m2():
    t = towns()
    # town 2 pushed 0.001° east: a strip of ~87 m × 11 km leaves the banner
    t[1] = Unit(t[1].code, 2, t[1].name, REGION, shapely.affinity.translate(t[1].geom, 0.001, 0))
    problems = check_units(t, parents=[BANNER])
    outside = [p for p in problems if p.kind == "outside_parent"]
    assert [p.code for p in outside] == ["150623002"]
    strip = box(107.2, 38.1, 107.201, 38.2)
    expected = abs(GEOD.geometry_area_perimeter(strip)[0])
    assert m2_in(outside[0].message) == pytest.approx(expected, rel=0.005)
    assert "鄂托克前旗" in outside[0].message and "tolerance 1 m²" in outside[0].message


def test_overlap_names_both_units_and_area():
    t = towns()
    t[0] = Unit(t[0].code, 2, t[0].name, REGION, box(107.0, 38.1, 107.101, 38.2))
    problems = check_units(t, parents=[BANNER])
    assert kinds(problems) == [("150623001", "overlap")]
    msg = problems[0].message
    assert "150623001 镇1" in msg and "150623002 镇2" in msg
    expected = abs(GEOD.geometry_area_perimeter(box(107.1, 38.1, 107.101, 38.2))[0])
    assert m2_in(msg) == pytest.approx(expected, rel=0.005)


def test_overlap_with_a_stored_sibling():
    t = towns()
    new = Unit(t[0].code, 2, t[0].name, REGION, box(107.0, 38.1, 107.101, 38.2))
    problems = check_units([new], parents=[BANNER], existing_children=t[1:])
    assert kinds(problems) == [("150623001", "overlap")]
    assert "(stored)" in problems[0].message


def test_gap_in_parent_coverage():
    t = towns()
    problems = check_units(t[:3], parents=[BANNER])
    assert kinds(problems) == [(REGION, "gap")]
    quarter = abs(GEOD.geometry_area_perimeter(t[3].geom)[0])
    assert m2_in(problems[0].message) == pytest.approx(quarter, rel=0.005)
    # the stored fourth town closes the gap
    assert check_units(t[:3], parents=[BANNER], existing_children=t[3:]) == []


def test_float_noise_along_shared_edges_is_not_a_problem():
    # what a GCJ-02 → WGS84 round trip leaves: 107.0 comes back as 106.99999999999999
    t = towns()
    t[2] = Unit(t[2].code, 2, t[2].name, REGION, shapely.from_wkt(
        "POLYGON ((107.1 38, 107.1 38.1, 106.99999999999999 38.099999999999994, "
        "106.99999999999999 37.99999999999999, 107.1 38))"))
    assert check_units(t, parents=[BANNER]) == []


def test_gap_only_checked_for_parents_whose_children_are_given():
    assert check_units([BANNER]) == []


def test_tolerance_in_square_metres():
    t = towns()
    # a ~0.5 m² spike into the neighbour: 1e-6° (0.088 m at 38° N) high, 1e-4° (11 m) long
    t[0] = Unit(t[0].code, 2, t[0].name, REGION,
                Polygon([(107.0, 38.1), (107.1, 38.1), (107.1, 38.15), (107.100001, 38.15005),
                         (107.1, 38.1501), (107.1, 38.2), (107.0, 38.2)]))
    assert check_units(t, parents=[BANNER]) == []
    tiny = check_units(t, parents=[BANNER], tolerance_m2=0.01)
    assert {p.kind for p in tiny} == {"overlap"}


def test_multipolygon_units_and_every_problem_reported():
    # a banner with an exclave, whose town 4 holds the exclave too: multipolygons tile as well
    island = box(107.3, 38.0, 107.31, 38.01)
    banner = Unit(REGION, 1, BANNER.name, None, MultiPolygon([BANNER.geom, island]))
    t = towns()
    t[3] = Unit(t[3].code, 2, t[3].name, REGION, MultiPolygon([t[3].geom, island]))
    assert check_units([banner, *t]) == []
    assert {p.kind for p in check_units([banner, *towns()])} == {"gap"}
    broken = [Unit(u.code, 2, u.name, REGION, Polygon()) for u in t]
    assert len(check_units(broken, parents=[BANNER])) == 4


def test_problem_str_is_one_readable_line():
    p = check_units(towns()[:3], parents=[BANNER])[0]
    line = str(p)
    assert "\n" not in line and line.startswith("150623 [gap]") and "m²" in line


def county_scale() -> list[Unit]:
    """A banner, 4 towns, 84 villages (each town 3×7) and 401 cells, tiling exactly."""
    out = [BANNER, *towns()]
    villages = []
    for town in out[1:]:
        x0, y0, x1, y1 = town.geom.bounds
        dx, dy = (x1 - x0) / 3, (y1 - y0) / 7
        for i in range(21):
            cx, cy = x0 + (i % 3) * dx, y0 + (i // 3) * dy
            villages.append(Unit(f"{town.code}{i + 1:03d}", 3, f"村{i}", town.code,
                                 box(cx, cy, cx + dx, cy + dy)))
    out += villages
    for k, v in enumerate(villages):
        n = 5 if k < 401 - 4 * 84 else 4  # 65 villages of 5 cells, 19 of 4 → 401 cells
        x0, y0, x1, y1 = v.geom.bounds
        w = (x1 - x0) / n
        out += [Unit(f"{v.code}{j + 1:03d}", 4, f"格{k}-{j}", v.code,
                     box(x0 + j * w, y0, x0 + (j + 1) * w if j < n - 1 else x1, y1)) for j in range(n)]
    return out


def test_county_scale_clean_then_one_broken_cell():
    units = county_scale()
    assert [sum(u.level == lv for u in units) for lv in (1, 2, 3, 4)] == [1, 4, 84, 401]
    assert check_units(units, region_code=REGION) == []
    cell = next(u for u in units if u.level == 4)
    units.remove(cell)
    problems = check_units(units, region_code=REGION)
    assert kinds(problems) == [(cell.parent_code, "gap")]


def cut(parent: Unit, nx: int, ny: int) -> list[Unit]:
    """Children of ``parent``: its polygon intersected with an nx × ny grid of boxes."""
    x0, y0, x1, y1 = parent.geom.bounds
    out = []
    for i in range(nx):
        for j in range(ny):
            piece = shapely.intersection(parent.geom, box(x0 + (x1 - x0) * i / nx, y0 + (y1 - y0) * j / ny,
                                                          x0 + (x1 - x0) * (i + 1) / nx,
                                                          y0 + (y1 - y0) * (j + 1) / ny))
            polys = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and not p.is_empty]
            if polys:
                code = f"{parent.code}{len(out) + 1:03d}"
                out.append(Unit(code, parent.level + 1, code[-3:], parent.code, MultiPolygon(polys)))
    return out


def test_real_banner_cut_into_towns_and_villages_is_clean():
    # The shipped boundary has ~1,200 vertices; children cut from it share long edges with
    # vertices in different places. Projecting vertices to an equal-area CRS once turned the
    # zero-width slivers between such edges into "gaps" of several thousand m².
    path = Path(__file__).resolve().parent.parent / "demo" / "sources" / "150623_gcj02.geojson"
    banner = Unit(REGION, 1, "鄂托克前旗", None,
                  gcj02_to_wgs84_geom(shapely.from_geojson(path.read_text(encoding="utf-8"))))
    town_units = cut(banner, 2, 2)
    villages = [v for t in town_units for v in cut(t, 5, 5)]
    assert check_units([banner, *town_units, *villages], region_code=REGION) == []
    problems = check_units([banner, *town_units, *villages[1:]], region_code=REGION)
    assert kinds(problems) == [(villages[0].parent_code, "gap")]


@pytest.mark.parametrize("geom", [box(107.0, 38.0, 107.1, 38.1), box(106.4, 37.6, 108.6, 38.9),
                                  MultiPolygon([box(107.0, 38.0, 107.1, 38.1), box(120.0, 50.0, 120.1, 50.1)])])
def test_area_m2_matches_the_geodesic_area(geom):
    # densified so geodesic edges follow the lon/lat-straight ones
    expected = abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.001))[0])
    assert area_m2([geom])[0] == pytest.approx(expected, rel=1e-4)
    assert area_m2([Polygon()])[0] == 0.0
