"""The wall display (/wall): full screen, dark, legible from five metres, no interaction needed.

It shows the whole jurisdiction, then each town in turn, and jumps to where a new report comes
in; the clock runs in the browser, the numbers follow the live feed.
"""
from __future__ import annotations

import time

from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from dashboard import charts, themes
from dashboard.i18n import gettext, t
from dashboard.leaders import live_stores, register_stream
from dashboard.legend import legend, legend_rows
from dashboard.mapview import command_map, register_clientside
from data import stats as agg
from domain import clock
from layers import registry
from web.auth import current_actor

ROTATE_S = 20  # each unit of the rotation is shown this long
HOLD_S = 45  # a new report is held this long, then the rotation goes on where it was
STEP_S = 5  # how often the wall checks whether to move on
WALL_KPIS = ["open", "overdue", "new_today", "solved_today", "in_grid", "on_time"]
WALL_LAYERS = ["incidents", "cells", "towns", "villages", "facilities"]


def layout(actor, info: dict, lang: str = "zh", region: str = "OneMap", *, tz: str, sound: bool = False) -> html.Div:
    """The wall for ``actor`` (a kiosk's read-only account works), opened on their jurisdiction;
    ``region`` is the county's name (from its database row) for the title, ``tz`` its time zone
    (the clock shows it); ``sound``: the alert sound starts switched on (``/wall?sound=1``)."""
    w = t(lang)
    cards = [html.Div([html.Div("–", id=f"w-kpi-{k}", className="v"), html.Div(w[k], className="k")],
                      className="om-card alarm" if k == "overdue" else "om-card") for k in WALL_KPIS]
    return html.Div([
        dcc.Store(id="w-state", data={}),
        dcc.Store(id="w-unit", data=info["code"]),
        dcc.Store(id="w-theme"),
        dcc.Store(id="w-lang", data=lang),
        dcc.Store(id="w-tz", data=tz),
        dcc.Store(id="w-sounded", data=0),
        *live_stores("w", lang),
        dcc.Interval(id="w-rotate", interval=STEP_S * 1000),
        dcc.Interval(id="w-second", interval=1000),
        html.Div([html.Div(w["wall_title"].format(region=region), className="om-title"),
                  html.Div(id="w-focus", className="om-focus"),
                  dcc.Checklist(id="w-sound", options=[{"label": gettext(lang, "mw.sound"), "value": "on"}],
                                value=["on"] if sound else [], className="om-check om-wall-sound"),
                  html.Span(w["live_off"], id="w-live", className="om-live off"),
                  html.Div(id="w-clock", className="om-clock")], className="om-header"),
        html.Div([command_map("w", info["code"], info["bounds"], lang, with_control=False,
                              allowed=registry.map_layers(actor), wall=True),
                  html.Div(id="w-legend", className="om-legend om-wall-legend")],
                 className="om-mapwrap", id="w-mapwrap"),
        html.Div([html.Div(cards, className="om-cards"),
                  html.Div(gettext(lang, "mw.sound_blocked"), id="w-sound-hint", className="om-sound-hint"),
                  html.Div(id="w-alerts-box", className="om-alerts"),
                  html.Div(gettext(lang, "mw.trend"), className="om-h"),
                  dcc.Graph(id="w-trend", className="om-wall-chart",
                            config={"displayModeBar": False, "staticPlot": True}, figure=charts.EMPTY),
                  html.Div(gettext(lang, "mw.overdue_by_child"), className="om-h"),
                  dcc.Graph(id="w-overdue", className="om-wall-chart",
                            config={"displayModeBar": False, "staticPlot": True}, figure=charts.EMPTY),
                  html.Div(w["latest"], className="om-h"), html.Div(id="w-ticker", className="om-ticker")],
                 className="om-side"),
    ], className="om-wall")


def focus_sequence(dsn: str, region_code: str, unit: str) -> list[dict]:
    """What the wall visits in turn: the whole jurisdiction, then each child unit."""
    top = agg.unit_info(dsn, region_code, unit)
    if top is None:
        raise LookupError(f"no grid unit {unit} in region {region_code}")
    today = agg.Filters.last_days(1, tz=agg.region_timezone(dsn, region_code))
    kids = [agg.unit_info(dsn, region_code, k["code"])
            for k in agg.children(dsn, region_code, unit, top["level"], today)]
    return [top, *[k for k in kids if k]]


def next_focus(state: dict | None, size: int, now: float, report_unit: str | None = None) -> tuple[dict, bool]:
    """The wall's next state and whether it moves: a new report (``report_unit``, the village it
    came from) is followed at once and held ``HOLD_S``; otherwise each ``ROTATE_S`` the rotation
    goes on to the next unit (index ``i`` of ``size``), but never while a report is held."""
    state = dict(state or {})
    if report_unit is not None:
        state.update(follow=report_unit, hold_until=now + HOLD_S, next_at=now + HOLD_S)
        return state, True
    if "i" not in state:  # the first step: the whole jurisdiction
        state.update(i=0, follow=None, hold_until=0, next_at=now + ROTATE_S)
        return state, True
    if now < state.get("hold_until", 0) or now < state.get("next_at", 0):
        return state, False
    following = state.get("follow") is not None
    # back from a report: where the rotation was; else the next unit
    state.update(i=state["i"] if following else (state["i"] + 1) % max(size, 1), follow=None,
                 hold_until=0, next_at=now + ROTATE_S)
    return state, True


def ticker_lines(events: list[dict], lang: str, tz: str) -> list[html.Div]:
    """One line per recent event: local time in ``tz`` (the region's zone), place, category, what happened."""
    w = t(lang)
    lines = []
    for e in events:
        when = clock.fmt_local(e["at"], tz, "%H:%M")
        what = w["actions"].get(e["action"], e["action"])
        if e["action"] == "escalate":
            what += f" → {w['levels'].get(e['level'], e['level'])}"
        category = e["category_name_en"] if lang == "en" else e["category_name"]
        lines.append(html.Div(f"{when}  {e['cell_name']} · {category} · {what}",
                              className="overdue" if e["overdue"] else ""))
    return lines


def alert_lines(dsn: str, region_code: str, unit: str, alerts: list[dict], lang: str, tz: str) -> list:
    """The wall's alerts (overdue or escalated, one per incident and level, newest first), each
    naming its place; anything outside ``unit`` or malformed is left out."""
    w = t(lang)
    lines = []
    for a in alerts[:6]:
        code = str(a.get("cell_code") or "")
        if not code.startswith(unit) or not code.isdigit():
            continue
        place = agg.unit_info(dsn, region_code, code)
        name = (place["name_en"] if lang == "en" and place["name_en"] else place["name"]) if place else code
        try:
            when = clock.fmt_local(a.get("at"), tz, "%H:%M")
        except (TypeError, ValueError):
            when = ""
        level = w["levels"].get(a.get("level"), "")
        key = "mw.alert_escalate" if a.get("action") == "escalate" else "mw.alert_overdue"
        lines.append(html.Div("⚠ " + gettext(lang, key, time=when, place=name, level=level), className="om-alert"))
    return lines


def register(app, dsn: str, region_code: str, actor_unit) -> None:
    """The wall's callbacks (all server-side checks as on the leaders' page)."""
    register_stream(app, "w")
    register_clientside(app, "w")  # the cells' theme colours and the labels of the towns
    # the incidents layer refetches on each live tick, its URL built in the browser (mapview)
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="tickUrl"),
                            Output("w-layer-incidents", "url"), Input("w-tick", "data"),
                            State("w-layer-incidents", "url"))
    # the alert sound (assets/onemap_sound.js, shared with the console): once per incident and level
    app.clientside_callback(ClientsideFunction(namespace="onemap_sound", function_name="wallAlerts"),
                            Output("w-sounded", "data"), Input("w-alerts", "data"), State("w-sound", "value"))
    app.clientside_callback(ClientsideFunction(namespace="onemap", function_name="clock"),
                            Output("w-clock", "children"), Input("w-second", "n_intervals"), State("w-tz", "data"))
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="flashHideout"),
                            Output("w-layer-incidents", "hideout"), Input("w-flash", "data"),
                            State("w-layer-incidents", "hideout"))

    @app.callback(Output("w-map", "viewport"), Output("w-focus", "children"), Output("w-state", "data"),
                  Input("w-rotate", "n_intervals"), Input("w-event", "data"),
                  State("w-state", "data"), State("w-lang", "data"))
    def rotate(_n, event, state, lang):
        unit = actor_unit()
        seq = focus_sequence(dsn, region_code, unit)
        report = None
        if event and event.get("action") == "report" and str(event.get("cell_code", "")).startswith(unit) \
                and state and event.get("id") != state.get("seen"):
            village = agg.unit_info(dsn, region_code, str(event["cell_code"])[:12])
            report = village["code"] if village else None
        state, moved = next_focus(state, len(seq), time.time(), report)
        if event:
            state["seen"] = event.get("id")
        if not moved:
            return no_update, no_update, state
        target = agg.unit_info(dsn, region_code, state["follow"]) if state.get("follow") else seq[state["i"] % len(seq)]
        name = target["name_en"] if lang == "en" and target["name_en"] else target["name"]
        if state.get("follow"):
            name = gettext(lang, "mw.new_report", name=name)
        return {"bounds": target["bounds"], "transition": "flyToBounds"}, name, state

    @app.callback(*[Output(f"w-kpi-{k}", "children") for k in WALL_KPIS],
                  Output("w-ticker", "children"),
                  Input("w-tick", "data"), State("w-lang", "data"))
    def numbers(_tick, lang):
        unit = actor_unit()
        tz = agg.region_timezone(dsn, region_code)
        k = agg.kpis(dsn, region_code, unit, agg.Filters.last_days(30, tz=tz))
        fmt = lambda v, suffix="": "–" if v is None else f"{v:,}{suffix}"  # noqa: E731
        values = [fmt(k["open"]), fmt(k["overdue"]), fmt(k["new_today"]), fmt(k["solved_today"]),
                  fmt(k["solved_in_grid_pct"], "%"), fmt(k["on_time_pct"], "%")]
        events = agg.recent_events(dsn, region_code, unit, limit=8)
        return (*values, ticker_lines(events, lang, tz))

    @app.callback(Output("w-trend", "figure"), Output("w-overdue", "figure"),
                  Input("w-slow", "data"), State("w-lang", "data"))
    def wall_charts(_slow, lang):
        unit = actor_unit()
        tz = agg.region_timezone(dsn, region_code)
        f = agg.Filters.last_days(30, tz=tz)
        info = agg.unit_info(dsn, region_code, unit)
        kids = agg.children(dsn, region_code, unit, info["level"] if info else 1, f)
        return charts.wall_trend(agg.trend(dsn, unit, f, "day"), lang), charts.wall_overdue(kids, lang)

    @app.callback(Output("w-alerts-box", "children"), Input("w-alerts", "data"), State("w-lang", "data"))
    def alerts(items, lang):
        return alert_lines(dsn, region_code, actor_unit(), items or [], lang, agg.region_timezone(dsn, region_code))

    @app.callback(Output("w-theme", "data"), Output("w-legend", "children"), Input("w-slow", "data"),
                  State("w-lang", "data"))
    def wall_theme(_slow, lang):
        unit = actor_unit()
        f = agg.Filters.last_days(30, tz=agg.region_timezone(dsn, region_code))
        theme = themes.theme(themes.values_for(dsn, region_code, unit, f, "density", current_actor()), "density")
        sections = [s for s in legend_rows(WALL_LAYERS, theme, "density", lang) if s["rows"]][:3]
        return theme, legend(sections)
