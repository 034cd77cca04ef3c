"""The map's colours, theme classes and the wall's rotation, without a browser."""
from __future__ import annotations

import itertools

from dashboard import themes
from dashboard.i18n import CLASS_COLORS, FACILITY_COLORS, WORKER_COLOR
from dashboard.legend import legend_rows
from dashboard.mapview import REACH_COLORS, STATION_COLOR, SWITCHABLE
from dashboard.wall import HOLD_S, ROTATE_S, next_focus

BANNER = "150623"


def lab(hex_color: str) -> tuple[float, float, float]:
    """CIE L*a*b* of an sRGB colour (D65)."""
    r, g, b = (int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in (r, g, b)]
    x = (lin[0] * 0.4124 + lin[1] * 0.3576 + lin[2] * 0.1805) / 0.95047
    y = lin[0] * 0.2126 + lin[1] * 0.7152 + lin[2] * 0.0722
    z = (lin[0] * 0.0193 + lin[1] * 0.1192 + lin[2] * 0.9505) / 1.08883
    f = [c ** (1 / 3) if c > 0.008856 else 7.787 * c + 16 / 116 for c in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e(a: str, b: str) -> float:
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5


def test_every_point_on_the_map_has_a_colour_of_its_own():
    points = {**{f"incident {k}": c for k, c in CLASS_COLORS.items()},
              **{f"facility {k}": c for k, c in FACILITY_COLORS.items()}, "worker": WORKER_COLOR,
              "suggested station": STATION_COLOR}
    close = [(a, b, round(delta_e(points[a], points[b]))) for a, b in itertools.combinations(points, 2)
             if delta_e(points[a], points[b]) < 25]
    assert close == []  # e.g. new #ff4d6d vs governance centre #ef476f was ΔE ≈ 4
    assert len(set(REACH_COLORS.values())) == len(REACH_COLORS)


def test_quantile_classes_spread_a_skewed_theme():
    # 401 cells, most of them near zero and a long tail: fixed breaks put nearly all in one or two classes
    values = {f"c{i}": (i % 7) * 0.3 + (i ** 2 / 400 if i > 350 else 0) for i in range(401)}
    th = themes.theme(values, "per_1000")
    assert len(th["classes"]) == 5 and sum(th["counts"]) == 401
    assert max(th["counts"]) <= 0.3 * 401, th["counts"]
    assert len(set(th["colors"])) == len(th["colors"])
    # ties are merged, never empty classes
    th = themes.theme({"a": 0, "b": 0, "c": 0, "d": 5, "e": None}, "overdue")
    assert th["classes"] == [0, 5] and th["counts"] == [3, 1] and th["missing"] == 1
    assert themes.theme({}, "density")["classes"] == []


def test_the_department_chart_names_read_across_and_it_grows_with_them():
    from dashboard import charts

    rows = [{"department_kind": k, "solved": n, "late": 1} for k, n in (("a", 5), ("b", 9), ("c", 2), ("d", 7),
                                                                        ("e", 4), ("f", 3), ("g", 1))]
    fig = charts.departments(rows, "zh", {k: (k * 3, k) for k in "abcdefg"})
    assert fig.data[0].orientation == "h" and fig.layout.height >= 60 + 30 * 7
    assert list(fig.data[0].y)[-1] == "bbb"  # the most solved at the top


def test_the_legend_names_every_visible_layer_and_counts_each_class():
    th = themes.theme({"a": 1.0, "b": 2.0, "c": 3.0, "d": None}, "density")
    sections = legend_rows(SWITCHABLE, th, "density", "en")
    titles = [s["title"] for s in sections]
    assert "Incidents" in titles[0] and len(sections) >= 6
    theme_rows = sections[1]["rows"]
    assert [r[2].split(" · ")[1] for r in theme_rows] == ["1 cells", "1 cells", "1 cells", "1 cells"]
    zh = legend_rows(["roads"], None, "density", "zh")
    assert [r[2] for r in zh[0]["rows"]][:2] == ["国道", "省道"]


def test_the_per_1000_theme_of_the_demo_county_spreads_its_cells(demo_dsn):
    from data import stats as agg
    from domain.policy import Caller

    admin = Caller(role="admin", region_code=BANNER, unit_code=BANNER)
    f = agg.Filters.last_days(365, tz=agg.region_timezone(demo_dsn, BANNER))
    for metric in ("per_1000", "density"):
        th = themes.theme(themes.values_for(demo_dsn, BANNER, BANNER, f, metric, admin), metric)
        assert len(th["classes"]) >= 4, th
        assert max(th["counts"]) <= 0.35 * sum(th["counts"]), (metric, th["counts"])


def test_the_wall_holds_a_report_then_goes_back_to_the_rotation():
    state, moved = next_focus(None, 5, 1000.0)
    assert moved and state["i"] == 0 and state["follow"] is None
    state, moved = next_focus(state, 5, 1000.0 + ROTATE_S / 2)
    assert not moved
    state, moved = next_focus(state, 5, 1000.0 + ROTATE_S)
    assert moved and state["i"] == 1
    at = 1000.0 + ROTATE_S + 3
    state, moved = next_focus(state, 5, at, "150623001002")  # a report: followed at once
    assert moved and state["follow"] == "150623001002"
    for step in range(1, int(HOLD_S // 5)):  # held through the rotation's ticks
        state, moved = next_focus(state, 5, at + 5 * step)
        assert not moved and state["follow"] == "150623001002"
    state, moved = next_focus(state, 5, at + HOLD_S)  # then back where the rotation was
    assert moved and state["follow"] is None and state["i"] == 1
    state, moved = next_focus(state, 5, at + HOLD_S + ROTATE_S)
    assert moved and state["i"] == 2


def test_patrol_coverage_is_a_registry_layer_the_wall_kiosk_does_not_get(demo_dsn):
    import json

    import pytest

    from domain.policy import Caller
    from layers import registry
    from layers.base import Query

    leader = Caller(role="leader", region_code=BANNER, unit_code=BANNER)
    body = json.loads(registry.geojson(demo_dsn, "patrol_coverage", leader, Query(unit="150623002")))
    cells = [f for f in body["features"] if f["properties"].get("cell_code")]
    assert cells and all(f["properties"]["cell_code"].startswith("150623002") for f in cells)
    assert {type(f["properties"]["patrolled"]) for f in cells} == {bool}
    assert "patrol_coverage" in registry.map_layers(leader)
    from db.core import connect  # the OGC API's and the exports' reads of it
    conn = connect(demo_dsn)
    try:
        layer = registry.get("patrol_coverage")
        rows, total = registry.page(conn, layer, leader, Query(unit="150623002"), 5, 0)
        assert len(rows) == 5 and total == registry.count(conn, layer, leader, Query(unit="150623002")) > 5
    finally:
        conn.close()
    kiosk = Caller(role="leader", region_code=BANNER, unit_code=BANNER, read_only=True)
    assert "patrol_coverage" not in registry.map_layers(kiosk)
    with pytest.raises(registry.NotForRole):
        registry.geojson(demo_dsn, "patrol_coverage", kiosk)
