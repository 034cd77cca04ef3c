"""The wall display (/wall): full screen, dark, legible from five metres, no interaction needed.

It shows the whole jurisdiction, then each town in turn, and jumps to where a new report comes
in; the clock runs in the browser, the numbers follow the live feed.
"""
from __future__ import annotations

import json

from dash import ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update
from dash_extensions import EventSource

from dashboard.i18n import t
from dashboard.mapview import command_map
from data import stats as agg
from domain import clock
from layers import registry

ROTATE_S = 20
WALL_KPIS = ["open", "overdue", "new_today", "solved_today", "in_grid", "on_time"]


def layout(actor, info: dict, lang: str = "zh", region: str = "OneMap", *, tz: str) -> html.Div:
    """The wall for ``actor`` (a kiosk's read-only account works), opened on their jurisdiction;
    ``region`` is the county's name (from its database row) for the title, ``tz`` its time zone
    (the clock shows it)."""
    w = t(lang)
    cards = [html.Div([html.Div("–", id=f"w-kpi-{k}", className="v"), html.Div(w[k], className="k")],
                      className="om-card alarm" if k == "overdue" else "om-card") for k in WALL_KPIS]
    return html.Div([
        dcc.Store(id="w-state", data={"i": 0, "follow": None}),
        dcc.Store(id="w-tick", data=0),
        dcc.Store(id="w-lang", data=lang),
        dcc.Store(id="w-tz", data=tz),
        dcc.Interval(id="w-rotate", interval=ROTATE_S * 1000),
        dcc.Interval(id="w-second", interval=1000),
        EventSource(id="w-events", url="/events/stream"),
        html.Div([html.Div(w["wall_title"].format(region=region), className="om-title"),
                  html.Div(className="om-spacer"),
                  html.Span(w["live_off"], id="w-live", className="om-live off"),
                  html.Div(id="w-clock", className="om-clock")], className="om-header"),
        command_map("w", info["code"], info["bounds"], lang, with_control=False, allowed=registry.map_layers(actor)),
        html.Div([html.Div(cards, className="om-cards"),
                  html.Div(id="w-focus", className="om-focus"),
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


def register(app, dsn: str, region_code: str, actor_unit) -> None:
    """The wall's callbacks (all server-side checks as on the leaders' page)."""
    # the incidents layer refetches on each live tick, its URL built in the browser (mapview)
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="tickUrl"),
                            Output("w-layer-incidents", "url"), Input("w-tick", "data"),
                            State("w-layer-incidents", "url"))
    app.clientside_callback(ClientsideFunction(namespace="onemap", function_name="clock"),
                            Output("w-clock", "children"), Input("w-second", "n_intervals"), State("w-tz", "data"))

    @app.callback(Output("w-map", "viewport"), Output("w-focus", "children"), Output("w-state", "data"),
                  Input("w-rotate", "n_intervals"), Input("w-events", "message"),
                  State("w-state", "data"), State("w-lang", "data"))
    def rotate(_n, message, state, lang):
        unit = actor_unit()
        seq = focus_sequence(dsn, region_code, unit)
        state = dict(state or {"i": 0, "follow": None})
        if ctx.triggered_id == "w-events":
            try:
                event = json.loads(message or "{}")
            except ValueError:
                return no_update, no_update, no_update
            if event.get("action") != "report" or not str(event.get("cell_code", "")).startswith(unit):
                return no_update, no_update, no_update
            village = agg.unit_info(dsn, region_code, event["cell_code"][:12])
            if village is None:
                return no_update, no_update, no_update
            state["follow"] = village["code"]
            target = village
        else:
            state["i"] = (state.get("i", 0) + 1) % len(seq) if _n else 0
            state["follow"] = None
            target = seq[state["i"]]
        name = target["name_en"] if lang == "en" and target["name_en"] else target["name"]
        return {"bounds": target["bounds"], "transition": "flyToBounds"}, name, state

    @app.callback(Output("w-tick", "data"), Output("w-live", "className"), Output("w-live", "children"),
                  Input("w-events", "message"), Input("w-events", "readyState"),
                  State("w-tick", "data"), State("w-lang", "data"), prevent_initial_call=True)
    def live(message, ready, tick, lang):
        w = t(lang)
        cls, text = ("om-live", w["live_on"]) if ready == 1 else ("om-live off", w["live_off"])
        bump = (tick or 0) + 1 if ctx.triggered_id == "w-events" and message else no_update
        return bump, cls, text

    @app.callback(*[Output(f"w-kpi-{k}", "children") for k in WALL_KPIS],
                  Output("w-ticker", "children"),
                  Input("w-tick", "data"), Input("w-rotate", "n_intervals"), State("w-lang", "data"))
    def numbers(tick, _n, lang):
        unit = actor_unit()
        tz = agg.region_timezone(dsn, region_code)
        k = agg.kpis(dsn, region_code, unit, agg.Filters.last_days(30, tz=tz))
        fmt = lambda v, suffix="": "–" if v is None else f"{v:,}{suffix}"  # noqa: E731
        values = [fmt(k["open"]), fmt(k["overdue"]), fmt(k["new_today"]), fmt(k["solved_today"]),
                  fmt(k["solved_in_grid_pct"], "%"), fmt(k["on_time_pct"], "%")]
        events = agg.recent_events(dsn, region_code, unit, limit=10)
        return (*values, ticker_lines(events, lang, tz))
