"""The leaders' page (/): drill down banner → town → village → cell on the map or the breadcrumb;
the selected unit and the filters scope the map, the KPIs and every chart.

Every callback re-reads the signed-in user on the server and clamps the unit to their
jurisdiction, so a callback posted directly cannot reach another town's data.
"""
from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update

from dashboard import charts, leaders_search, search_box, station, themes
from dashboard.i18n import gettext, t
from dashboard.legend import legend, legend_rows
from dashboard.mapview import (
    available,
    command_map,
    hidden_class,
    layer_switch,
    register_clientside,
    register_flash,
    register_switch,
    shown_by_default,
)
from data import incidents
from data import stats as agg
from data.routing import route as routing
from db.core import pooled
from domain import clock, policy
from layers import registry
from web.auth import current_actor

RANGES = {"d7": 7, "d30": 30, "d90": 90, "d365": 365}
METRICS = ("density", "per_1000", "overdue", "in_grid")
KPIS = ["open", "overdue", "new_today", "solved_today", "in_grid", "on_time", "mean_hours", "reported",
        "visit_pct", "satisfaction_pct"]
# the return-visit cards say what the bulletins say (one word for one figure)
KPI_WORDS = {"visit_pct": "bulletin.ind.visit_pct", "satisfaction_pct": "bulletin.ind.satisfaction_pct"}


def _chart(title: str, title_id: str, graph_id: str, class_name: str | None = None) -> list:
    """A side-panel chart: its heading and its graph (no mode bar)."""
    graph = (dcc.Graph(id=graph_id, config={"displayModeBar": False}, figure=charts.EMPTY) if class_name is None
             else dcc.Graph(id=graph_id, className=class_name, config={"displayModeBar": False}, figure=charts.EMPTY))
    return [html.Div(title, id=title_id, className="om-h"), graph]


def live_stores(prefix: str, lang: str) -> list:
    """The stores the live stream updates in place (assets/onemap_live.js) and its settings."""
    w = t(lang)
    ids = [f"{prefix}-{n}" for n in ("tick", "slow", "flash", "event", "alerts", "live")]
    cfg = {"prefix": prefix, "url": "/events/stream", "on": w["live_on"], "off": w["live_off"], "ids": ids}
    return [dcc.Store(id=f"{prefix}-tick", data=0), dcc.Store(id=f"{prefix}-slow", data=0),
            dcc.Store(id=f"{prefix}-flash", data=[]), dcc.Store(id=f"{prefix}-event"),
            dcc.Store(id=f"{prefix}-alerts", data=[]), dcc.Store(id=f"{prefix}-livecfg", data=cfg),
            dcc.Store(id=f"{prefix}-started")]


def register_stream(app, prefix: str) -> None:
    """Open the page's one live stream when its layout first renders (again: no new stream)."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_live", function_name="start"),
                            Output(f"{prefix}-started", "data"), Input(f"{prefix}-livecfg", "data"))


def layout(actor, info: dict, lang: str = "zh", region: str = "OneMap") -> html.Div:
    """The page for ``actor``, opened on their jurisdiction unit ``info``; ``region`` is the county's
    name (from its database row) for the title."""
    w = t(lang)
    q = "?lang=en" if lang == "en" else ""
    allowed = registry.map_layers(actor)
    cards = [html.Div([html.Div("–", id=f"m-kpi-{k}", className="v"),
                       html.Div(gettext(lang, KPI_WORDS[k]) if k in KPI_WORDS else w[k],
                                id=f"m-kpi-{k}-label", className="k")],
                      className="om-card alarm" if k == "overdue" else "om-card") for k in KPIS]
    filters = html.Div([
        dcc.Dropdown(id="m-range", options=[{"label": w[k], "value": k} for k in RANGES], value="d30",
                     clearable=False, searchable=False, className="om-f-range", persistence=True,
                     persistence_type="session"),
        dcc.Dropdown(id="m-level", options=[{"label": w["levels"][lv], "value": lv} for lv in (4, 3, 2, 1)],
                     placeholder=w["level"], searchable=False, className="om-f-level", persistence=True,
                     persistence_type="session"),
        dcc.Dropdown(id="m-metric", options=[{"label": w[f"m_{m}"], "value": m} for m in METRICS],
                     value="density", clearable=False, searchable=False, className="om-f-metric",
                     persistence=True, persistence_type="session"),
        dcc.Dropdown(id="m-cat", options=[], multi=True, placeholder=w["category"], className="om-f-cat",
                     persistence=True, persistence_type="session"),
    ], id="m-filters", className="om-filters")
    names = available(allowed)
    switch = layer_switch("m", lang, allowed)
    return html.Div([
        dcc.Store(id="m-unit", data=info["code"]),
        dcc.Store(id="m-theme"),
        dcc.Store(id="m-jump"),
        *live_stores("m", lang),
        html.Div([html.Div(w["title"].format(region=region), id="title", className="om-title"),
                  html.Div(id="m-crumbs", className="om-crumbs"),
                  search_box.box("m", lang),
                  html.Nav([html.A(w["nav"]["export"], href="/analyst" + q, className="om-nav"),
                            html.A(w["nav"]["wall"], href="/wall" + q, className="om-nav"),
                            html.A(gettext(lang, "registry.nav"), href="/registry" + q, className="om-nav",
                                   id="m-nav-registry"),
                            html.Button(gettext(lang, "mw.png"), id="m-png", className="om-btn"),
                            html.Button(gettext(lang, "mw.print"), id="m-print", className="om-btn")],
                           className="om-navs"),
                  html.Span(w["live_off"], id="m-live", className="om-live off"),
                  dcc.RadioItems(id="lang", value=lang, inline=True, className="om-lang",
                                 options=[{"label": w["lang"][code], "value": code} for code in ("zh", "en")]),
                  html.Div(id="m-user", className="om-userbox")], className="om-header", id="m-header"),
        html.Div([command_map("m", info["code"], info["bounds"], lang, allowed=allowed),
                  html.Div([html.Div(gettext(lang, "mw.layers"), className="om-layerbox-title"), switch,
                            *([station.status_box(lang)] if "station" in names else [])],
                           className="om-layerpanel"),
                  html.Div([html.Button("×", id="m-detail-close")], id="m-detail", className="om-detail",
                           style={"display": "none"})],
                 id="m-mapwrap", className=hidden_class(shown_by_default(allowed), names)),
        html.Div([filters, html.Div(cards, className="om-kpis"), html.Div(id="m-alarm"),
                  html.Div(w["legend"], className="om-h"), html.Div(id="m-legend", className="om-legend"),
                  *_chart(w["trend"], "m-h-trend", "m-trend", "om-chart"),
                  *_chart(w["funnel"], "m-h-funnel", "m-funnel", "om-chart"),
                  *_chart(w["by_child"], "m-h-child", "m-child", "om-chart"),
                  *_chart(w["categories"], "m-h-cats", "m-cats"),
                  *_chart(w["departments"], "m-h-depts", "m-depts"),
                  *_chart(w["people"], "m-h-people", "m-people", "om-chart"),
                  html.Div(w["note"], id="note", className="om-note")], className="om-side"),
    ], className="om-shell")


def filters_from(range_key: str | None, cats, level, *, tz: str) -> agg.Filters:
    """The Filters for the dropdowns' values (unknown values fall back to 30 days, all); days are
    local days in ``tz``, the region's zone."""
    days = RANGES.get(range_key or "d30", 30)
    return agg.Filters.last_days(days, categories=tuple(cats) if cats else None,
                                 level=level if level in (1, 2, 3, 4) else None, tz=tz)


def child_unit(current: str, clicked_cell: str) -> str | None:
    """The unit one level below ``current`` that holds ``clicked_cell`` (None at cell level)."""
    if len(current) >= 15 or not clicked_cell.startswith(current):
        return None
    return clicked_cell[:len(current) + 3]


def stats(dsn: str, region_code: str, unit: str, f: agg.Filters, metric: str, lang: str, caller=None) -> dict:
    """Everything the side panel and the choropleth show for ``unit`` (a plain function: tested
    directly), with resident counts of 1–4 blanked for ``caller`` (the signed-in user) as the layer
    registry blanks them, and reports per 1,000 residents too (they give the count back); the
    choropleth is ``themes.theme`` (``cells``: its classes, colours, counts and values)."""
    caller = caller or current_actor()
    info = agg.unit_info(dsn, region_code, unit)
    if info is None:
        raise LookupError(f"no grid unit {unit} in region {region_code}")
    k = agg.kpis(dsn, region_code, unit, f)
    cats = agg.categories(dsn, unit, f)
    kids = agg.children(dsn, region_code, unit, info["level"], f)
    for c in kids:
        if policy.suppress(caller, c["population"]) is None:
            c["population"] = c["households"] = None
        c["households"] = policy.suppress(caller, c["households"])
    values = themes.values_for(dsn, region_code, unit, f, metric, caller)
    return {"kpis": k, "trend": agg.trend(dsn, unit, f, "week" if (f.until - f.since).days > 60 else "day"),
            "funnel": agg.funnel(dsn, region_code, unit, f, k), "children": kids, "categories": cats,
            "cells": themes.theme(values, metric)}


def incident_detail(dsn: str, incident_id: str) -> tuple[dict, list[dict]]:
    """One incident with its timeline and its nearest responders by road, as the signed-in user
    may see them (NotFound outside their jurisdiction)."""
    with pooled(dsn) as conn:
        item = incidents.get(conn, current_actor(), incident_id)
        try:
            ranked = routing.responders(conn, current_actor(), incident_id, limit=5)["items"]
        except incidents.IncidentError:  # far from any road, say: the panel still shows the case
            ranked = []
    return item, ranked


def route_to(dsn: str, origin: str, incident_id: str) -> dict:
    """The road route from a responder (``facility:12``, ``department:…``, ``worker:…``) to an incident."""
    with pooled(dsn) as conn:
        return routing.route_for(conn, current_actor(), origin, f"incident:{incident_id}")


def incident_panel(item: dict, ranked: list[dict], lang: str, tz: str) -> list:
    """The detail panel: category, place, state, deadline, the timeline, and who is nearest by road;
    times as wall-clock time in ``tz``, the region's zone."""
    w = t(lang)
    responders = [html.Li([html.Button(f"{w['route_to']} {r['minutes']} {w['minutes']}",
                                       id={"type": "resp", "from": r["from"], "incident": item["id"]}),
                           f" {r['name'] or r['ref']}"]) for r in ranked]
    due = clock.fmt_local(item["due_at"], tz)
    steps = [html.Li(f"{clock.fmt_local(e['at'], tz, '%m-%d %H:%M')} {w['actions'].get(e['action'], e['action'])}"
                     f" · {w['levels'].get(e['level'], '')} · {e['actor'] or ''}"
                     f" {('· ' + e['note']) if e['note'] else ''}")
             for e in item["timeline"]]
    return [html.Button("×", id="m-detail-close"),
            html.H3(item["category_name_en"] if lang == "en" else item["category_name"]),
            html.Div(item["description"]),
            html.Div(f"{w['states'].get(item['state'], item['state'])} · {w['levels'][item['handling_level']]} · "
                     f"{'⚠ ' + w['overdue'] if item['overdue'] else ''} {due}",
                     style={"color": "#ff6b6b" if item["overdue"] else "#9fb3c8"}),
            html.Div(item["cell_code"], className="om-note"),
            html.Div(w["timeline"], className="om-h"), html.Ol(steps),
            html.Div(w["responders"], className="om-h"), html.Ol(responders), html.Div(id="m-route-info")]


def register(app, dsn: str, region_code: str, actor_unit, department_names) -> None:
    """The page's callbacks; ``actor_unit()`` returns the signed-in user's jurisdiction or aborts."""

    def clamp(unit: str | None) -> str:
        return agg.scope_for(actor_unit(), unit)

    _register_navigation(app, dsn, region_code, actor_unit, clamp)
    _register_panel(app, dsn, region_code, clamp, department_names)
    _register_theme(app, dsn, region_code, clamp)
    register_stream(app, "m")
    register_flash(app, "m")
    _register_incident(app, dsn, region_code)
    station.register(app, dsn)

    def panel(incident_id: str, lang: str) -> list:
        item, ranked = incident_detail(dsn, incident_id)
        return incident_panel(item, ranked, lang, agg.region_timezone(dsn, region_code))

    leaders_search.register(app, dsn, region_code, clamp, panel)


def _register_navigation(app, dsn: str, region_code: str, actor_unit, clamp) -> None:
    """Drilling down (a click on the map, the breadcrumb), the layer switch and the viewport."""

    @app.callback(Output("m-unit", "data"),
                  Input("m-map", "clickData"), Input({"type": "crumb", "code": ALL}, "n_clicks"),
                  State("m-unit", "data"), prevent_initial_call=True)
    def navigate(map_click, _crumbs, current):
        trigger = ctx.triggered_id
        target = None
        if isinstance(trigger, dict) and trigger.get("type") == "crumb" and ctx.triggered[0]["value"]:
            target = trigger["code"]
        elif trigger == "m-map" and map_click and map_click.get("latlng"):
            # anywhere on the map (a cell, a road, a boundary, under a cluster's number): drill into
            # the unit holding the point under the cursor
            ll = map_click["latlng"]
            cell = agg.cell_at(dsn, region_code, float(ll["lng"]), float(ll["lat"]))
            target = child_unit(current, cell) if cell else None
        if not target:
            return no_update
        try:
            return clamp(target)
        except agg.OutsideJurisdiction:
            return no_update

    register_clientside(app, "m")  # the unit dims and labels the map in the browser, no refetch
    register_switch(app, "m")
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="incidentUrl"),
                            Output("m-layer-incidents", "url"),
                            Input("m-map", "zoom"), Input("m-map", "bounds"), Input("m-unit", "data"),
                            Input("m-range", "value"), Input("m-cat", "value"), Input("m-level", "value"),
                            Input("m-tick", "data"), State("m-layer-incidents", "url"))
    # the houses layer by zoom and viewport too (clusters, points, footprints), only while it is on
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="houseUrl"),
                            Output("m-layer-houses", "url"),
                            Input("m-map", "zoom"), Input("m-map", "bounds"), Input("m-unit", "data"),
                            Input("m-layers", "value"), State("m-layer-houses", "hideout"))

    @app.callback(Output("m-map", "viewport"), Output("m-crumbs", "children"),
                  Input("m-unit", "data"), Input("lang", "value"))
    def show_unit(unit, lang):
        unit = clamp(unit)
        info = agg.unit_info(dsn, region_code, unit)
        crumbs = []
        for code in [unit[:n] for n in range(len(actor_unit()), len(unit) + 1, 3)]:
            u = agg.unit_info(dsn, region_code, code)
            name = (u["name_en"] if lang == "en" and u["name_en"] else u["name"]) if u else code
            crumbs.append(html.Button(name, id={"type": "crumb", "code": code}, title=name,
                                      className="current" if code == unit else ""))
        return {"bounds": info["bounds"], "transition": "flyToBounds"}, crumbs


def _fmt(v, suffix: str = "") -> str:
    return "–" if v is None else f"{v:,}{suffix}"


def _register_panel(app, dsn: str, region_code: str, clamp, department_names) -> None:
    """The side panel: the counts at once on each live event (one query), the charts and the
    category filter on the slower refresh."""
    scope = [Input("m-unit", "data"), Input("m-range", "value"), Input("m-cat", "value"), Input("m-level", "value")]

    @app.callback(*[Output(f"m-kpi-{k}", "children") for k in KPIS], Output("m-alarm", "children"),
                  *scope, Input("m-tick", "data"), Input("lang", "value"))
    def counts(unit, range_key, cats, level, _tick, lang):
        unit = clamp(unit)
        f = filters_from(range_key, cats, level, tz=agg.region_timezone(dsn, region_code))
        k, w = agg.kpis(dsn, region_code, unit, f), t(lang)
        values = [_fmt(k["open"]), _fmt(k["overdue"]), _fmt(k["new_today"]), _fmt(k["solved_today"]),
                  _fmt(k["solved_in_grid_pct"], "%"), _fmt(k["on_time_pct"], "%"), _fmt(k["mean_hours"]),
                  _fmt(k["reported"]), _fmt(k["visit_pct"], "%"), _fmt(k["satisfaction_pct"], "%")]
        alarm = html.Div(f"⚠ {w['alarm']}: {k['overdue']}", className="om-alarmbar") if k["overdue"] else None
        return (*values, alarm)

    @app.callback(Output("m-trend", "figure"), Output("m-funnel", "figure"), Output("m-child", "figure"),
                  Output("m-cats", "figure"), Output("m-depts", "figure"), Output("m-people", "figure"),
                  Output("m-cat", "options"), *scope, Input("m-slow", "data"), Input("lang", "value"))
    def refresh(unit, range_key, cats, level, _slow, lang):
        unit = clamp(unit)
        tz = agg.region_timezone(dsn, region_code)
        f = filters_from(range_key, cats, level, tz=tz)
        s = stats(dsn, region_code, unit, f, "overdue", lang)
        all_cats = agg.categories(dsn, unit, agg.Filters.last_days(RANGES.get(range_key or "d30", 30), tz=tz))
        options = [{"label": c["name_en"] if lang == "en" else c["name"], "value": c["code"]} for c in all_cats]
        return (charts.trend(s["trend"], lang), charts.funnel(s["funnel"], lang),
                charts.by_child(s["children"], lang), charts.categories(s["categories"], lang),
                charts.departments(s["categories"], lang, department_names()), charts.people(s["children"], lang),
                options)


def _register_theme(app, dsn: str, region_code: str, clamp) -> None:
    """The choropleth (one query for the theme's values) and the legend of the visible layers."""

    @app.callback(Output("m-theme", "data"),
                  Input("m-unit", "data"), Input("m-range", "value"), Input("m-cat", "value"),
                  Input("m-level", "value"), Input("m-metric", "value"), Input("m-slow", "data"))
    def theme(unit, range_key, cats, level, metric, _slow):
        unit = clamp(unit)
        metric = metric if metric in METRICS else "density"
        f = filters_from(range_key, cats, level, tz=agg.region_timezone(dsn, region_code))
        return themes.theme(themes.values_for(dsn, region_code, unit, f, metric, current_actor()), metric)

    @app.callback(Output("m-legend", "children"),
                  Input("m-layers", "value"), Input("m-theme", "data"), State("lang", "value"))
    def show_legend(shown, theme_data, lang):
        metric = (theme_data or {}).get("metric") if (theme_data or {}).get("metric") in METRICS else "density"
        return legend(legend_rows(shown or [], theme_data, metric, lang))


def _register_incident(app, dsn: str, region_code: str) -> None:
    """An incident's panel (timeline, nearest responders) and the route from a chosen responder."""

    @app.callback(Output("m-detail", "children"), Output("m-detail", "style"),
                  Input("m-layer-incidents", "clickData"), Input("m-detail-close", "n_clicks"),
                  State("lang", "value"), prevent_initial_call=True)
    def detail(click, close, lang):
        if ctx.triggered_id == "m-detail-close" and not close:
            return no_update, no_update  # a panel just drawn (e.g. by the search box): its button, not a click
        if ctx.triggered_id != "m-layer-incidents" or not click or click["properties"].get("cluster"):
            return no_update, {"display": "none"}
        item, ranked = incident_detail(dsn, click["properties"]["id"])
        return incident_panel(item, ranked, lang, agg.region_timezone(dsn, region_code)), {"display": "block"}

    @app.callback(Output("m-route", "data"), Output("m-route-info", "children"),
                  Input({"type": "resp", "from": ALL, "incident": ALL}, "n_clicks"), State("lang", "value"),
                  prevent_initial_call=True)
    def draw_route(_clicks, lang):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return no_update, no_update
        try:
            feature = route_to(dsn, trigger["from"], trigger["incident"])
        except incidents.IncidentError as exc:
            return None, html.Div(exc.message, className="om-note")
        p = feature["properties"]
        w = t(lang)
        head = f"{p['minutes']} {w['minutes']} · {p['length_m'] / 1000:.1f} km"
        return feature, [html.Div(head, style={"fontWeight": 700, "color": "#00f5d4"}),
                         html.Ol([html.Li(step["text"] if isinstance(step, dict) else step) for step in p["steps"]])]
