"""The map's legend: one section per visible layer and the theme's classes with their counts.

The same rows serve the page (``legend``) and the PNG/print export (``legend_rows``: plain data
that assets/onemap_export.js draws on a canvas).
"""
from __future__ import annotations

from dash import html

from dashboard.i18n import CLASS_COLORS, FACILITY_COLORS, WORKER_COLOR, gettext, t
from dashboard.mapview import GAP_COLOR, HOUSE_COLOR, PATROL_COLORS, REACH_COLORS, STATION_COLOR, layer_title

ROAD_COLORS = {"national": "#ff9f1c", "provincial": "#ffbf69", "county": "#d4b483", "urban": "#c9c9c9",
               "township": "#a68a64", "track": "#8c7a5b"}
OUTLINES = {"banner": "#ff6b6b", "towns": "#ffffff", "villages": "#8fb8de"}


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.1f}"


def theme_rows(theme: dict | None, lang: str) -> list[tuple[str, str, str]]:
    """(shape, colour, text) per class of the theme: 'a – b · n cells', then the cells without data."""
    if not theme or not theme.get("classes"):
        return [("area", theme.get("none", "#3a4a5c") if theme else "#3a4a5c", gettext(lang, "mw.no_data"))]
    classes, colors, counts = theme["classes"], theme["colors"], theme["counts"]
    rows = []
    for i, low in enumerate(classes):
        high = classes[i + 1] if i + 1 < len(classes) else theme.get("max")
        span = _fmt(low) if high is None or high == low else f"{_fmt(low)} – {_fmt(high)}"
        rows.append(("area", colors[i], f"{span} · {gettext(lang, 'mw.cells_n', n=counts[i])}"))
    if theme.get("missing"):
        rows.append(("area", theme["none"], f"{gettext(lang, 'mw.no_data')} · "
                                            f"{gettext(lang, 'mw.cells_n', n=theme['missing'])}"))
    return rows


def legend_rows(shown: list[str], theme: dict | None, metric: str, lang: str) -> list[dict]:
    """Sections of the legend for the ``shown`` layers: [{title, rows: [(shape, colour, text)]}]."""
    w = t(lang)
    sections = []
    if "incidents" in shown:
        sections.append({"title": w["layers"]["incidents"],
                         "rows": [("dot", c, w["classes"][k]) for k, c in CLASS_COLORS.items() if k != "rejected"]
                         + [("ring", CLASS_COLORS["in_hand"], gettext(lang, "mw.clusters"))]})
    if "cells" in shown:
        sections.append({"title": w[f"m_{metric}"], "rows": theme_rows(theme, lang)})
    if "facilities" in shown:
        sections.append({"title": w["layers"]["facilities"],
                         "rows": [("dot", c, w["facilities"][k]) for k, c in FACILITY_COLORS.items()]})
    if "workers" in shown:
        sections.append({"title": w["layers"]["workers"], "rows": [("dot", WORKER_COLOR, gettext(lang, "mw.worker"))]})
    if "houses" in shown:
        sections.append({"title": w["layers"]["houses"],
                         "rows": [("ring", HOUSE_COLOR, gettext(lang, "mw.clusters")),
                                  ("dot", HOUSE_COLOR, gettext(lang, "registry.legend.house")),
                                  ("area", HOUSE_COLOR, gettext(lang, "registry.legend.footprint"))]})
    if "roads" in shown:
        sections.append({"title": w["layers"]["roads"],
                         "rows": [("line", c, gettext(lang, f"mw.roads.{k}")) for k, c in ROAD_COLORS.items()]})
    outlines = [("line", c, w["layers"][k]) for k, c in OUTLINES.items() if k == "banner" or k in shown]
    sections.append({"title": gettext(lang, "mw.outlines"), "rows": outlines})
    circles = [("area", REACH_COLORS[(kind, int(m))], layer_title(name, lang))
               for name in shown if name.startswith("reach:") for _, kind, m in [name.split(":")]]
    if "gaps" in shown:
        circles.append(("area", GAP_COLOR, w["layers"]["gaps"]))
    if "station" in shown:
        circles.append(("dot", STATION_COLOR, gettext(lang, "mw.station")))
    if "patrol" in shown:
        sections.append({"title": gettext(lang, "mw.patrol"),
                         "rows": [("area", PATROL_COLORS[True], gettext(lang, "mw.patrolled")),
                                  ("area", PATROL_COLORS[False], gettext(lang, "mw.not_patrolled"))]})
    if circles:
        sections.append({"title": gettext(lang, "mw.layers"), "rows": circles})
    return sections


def legend(sections: list[dict]) -> list:
    """The legend's components (names are text; colours are ours)."""
    out: list = []
    for s in sections:
        out.append(html.Div(s["title"], className="om-legend-title"))
        for shape, color, text in s["rows"]:
            style = {"borderColor": color} if shape == "ring" else {"background": color}
            out.append(html.Div([html.Span(className=f"om-sw om-sw-{shape}", style=style),
                                 html.Span(text)], className="om-legend-row"))
    return out
