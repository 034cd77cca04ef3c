"""The dispatch console (/console): an incident table paged, sorted and filtered on the server
(dash-ag-grid's infinite row model), the work queues, search, live alerts, and beside the table
one incident with its timeline, photos, a small map and the actions its state and the user's role
allow. Callbacks are in ``dashboard.console_cb``; reads in ``data.console``; every action goes
through ``data.incidents.act`` with the version the user saw.
"""
from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions import EventSource

from dashboard import search_box
from dashboard.i18n import t
from dashboard.mapview import layer_url
from data import console
from domain import clock

GRID_PAGE = 50
# (row field, sort key on the server or None, width, heading word)
COLUMNS = [("number", "id", 92, "number"), ("received", "received_at", 140, "received"),
           ("category_label", "category", 130, "category"), ("state_label", "state", 84, "state"),
           ("level_label", "level", 64, "level"), ("department_label", "department", 130, "department"),
           ("place", "cell", 130, "place"), ("due", "due_at", 140, "due"), ("overdue_label", None, 64, "overdue")]
DARK_GRID: dict[str, Any] = {"data-ag-theme-mode": "dark-blue"}  # AG Grid's own dark colour scheme
ACTION_CLASS = {"reject": "om-btn warn", "reopen": "om-btn warn", "escalate": "om-btn warn"}


def _lang_suffix(lang: str) -> str:
    return "?lang=en" if lang == "en" else ""


def _filters(w: dict, lang: str, options: dict) -> html.Div:
    c = w["console"]
    return html.Div([
        dcc.Input(id="c-number", type="text", placeholder=c["f_number"], debounce=True, className="om-input",
                  style={"width": 110}),
        dcc.Input(id="c-text", type="text", placeholder=c["f_text"], debounce=True, className="om-input",
                  style={"width": 130}),
        dcc.Dropdown(id="c-cat", options=options["categories"], multi=True, placeholder=c["f_category"],
                     style={"minWidth": 150}),
        dcc.Dropdown(id="c-state", multi=True, placeholder=c["f_state"], style={"minWidth": 120},
                     options=[{"label": w["states"][s], "value": s} for s in w["states"]]),
        dcc.Dropdown(id="c-dept-filter", options=options["departments"], multi=True, placeholder=c["f_department"],
                     style={"minWidth": 150}),
        dcc.Dropdown(id="c-level", multi=True, placeholder=c["f_level"], style={"minWidth": 110},
                     options=[{"label": w["levels"][lv], "value": lv} for lv in (4, 3, 2, 1)]),
        dcc.Checklist(id="c-overdue", options=[{"label": c["f_overdue"], "value": "1"}], value=[],
                      className="om-check"),
        dcc.Input(id="c-since", type="text", placeholder=c["f_since"], debounce=True, className="om-input",
                  maxLength=10, style={"width": 140}),
        dcc.Input(id="c-until", type="text", placeholder=c["f_until"], debounce=True, className="om-input",
                  maxLength=10, style={"width": 140}),
        html.Button(c["f_clear"], id="c-clear", className="om-btn"),
        html.Span(id="c-unit-label", className="om-note"),
        html.Span(id="c-filter-error", className="om-error"),
    ], className="om-c-filters")


def grid(lang: str) -> dag.AgGrid:
    """The incident table: rows come from the server a page at a time (/console/rows, fetched by the
    datasource in assets/console.js)."""
    c = t(lang)["console"]
    cols = [{"field": f, "headerName": c[f"col_{h}"], "minWidth": width, "sortable": col is not None,
             **({"colId": col} if col else {})}
            for f, col, width, h in COLUMNS]
    return dag.AgGrid(
        id="c-grid", columnDefs=cols, rowModelType="infinite", columnSize="responsiveSizeToFit",
        defaultColDef={"resizable": True, "filter": False, "suppressHeaderMenuButton": True},
        getRowId="params.data.id",
        dashGridOptions={"pagination": True, "paginationPageSize": GRID_PAGE, "cacheBlockSize": GRID_PAGE,
                         "paginationPageSizeSelector": False, "maxBlocksInCache": 4, "rowHeight": 30,
                         "headerHeight": 34, "suppressCellFocus": True, "infiniteInitialRowCount": 1,
                         "localeText": {"page": c["grid_page"], "of": c["grid_of"], "to": c["grid_to"],
                                        "more": c["grid_more"], "firstPage": c["grid_first"],
                                        "previousPage": c["grid_previous"], "nextPage": c["grid_next"],
                                        "lastPage": c["grid_last"], "loadingOoo": c["grid_loading"],
                                        "noRowsToShow": c["grid_empty"]}},
        style={"height": "100%", "width": "100%"}, className="om-c-grid")


def layout(actor, info: dict, lang: str, region: str, options: dict) -> html.Div:
    """The console for ``actor`` (their jurisdiction unit ``info``); ``options`` holds the filter
    choices (categories, departments) in ``lang``."""
    w = t(lang)
    c = w["console"]
    if actor.role not in console.VIEW_ROLES or actor.read_only:
        return html.Div(c["forbidden"], id="c-forbidden", className="om-note om-c-forbidden")
    queues = dcc.RadioItems(id="c-queue", value="all", inline=True, className="om-c-queues",
                            options=[{"label": c[f"queue_{q}"], "value": q} for q in ("all", *console.QUEUES)])
    header = html.Div([
        html.Div(c["title"].format(region=region), id="title", className="om-title"),
        html.A(c["nav_map"], href="/" + _lang_suffix(lang), className="om-user-logout", id="c-nav-map"),
        search_box.box("c", lang, c["search"]),
        html.Div(className="om-spacer"),
        dcc.Checklist(id="c-sound", options=[{"label": c["sound"], "value": "on"}], value=[], className="om-check"),
        html.Span(w["live_off"], id="c-live", className="om-live off"),
        dcc.RadioItems(id="lang", value=lang, inline=True, className="om-lang",
                       options=[{"label": w["lang"][code], "value": code} for code in ("zh", "en")]),
        html.Div(id="m-user")], className="om-header")
    return html.Div([
        dcc.Store(id="c-query", data={}), dcc.Store(id="c-refresh", data=0), dcc.Store(id="c-selected"),
        dcc.Store(id="c-seen"), dcc.Store(id="c-unit"), dcc.Store(id="c-beep", data=0),
        dcc.Store(id="c-words", data={"failed": c["rows_failed"], "signedOut": c["rows_signed_out"]}),
        dcc.Store(id="c-alerted", storage_type="session", data=[]), dcc.Store(id="c-alert-list", data=[]),
        dcc.Store(id="c-route"), dcc.Store(id="c-scope", data=info["code"]), dcc.Store(id="c-jump"),
        EventSource(id="c-events", url="/events/stream"),
        header,
        html.Div([html.Span(c["alerts"], className="om-h"), html.Div(id="c-alerts"),
                  html.Button(c["dismiss"], id="c-dismiss", className="om-btn")],
                 id="c-alert-bar", className="om-c-alertbar", style={"display": "none"}),
        html.Div([queues, html.Span(id="c-total", className="om-note")], className="om-c-queuebar"),
        _filters(w, lang, options),
        html.Div([html.Div(grid(lang), className="om-c-table"),
                  html.Div([html.Div(id="c-message", className="om-c-message"),
                            html.Div([html.Div(c["pick"], className="om-note")], id="c-detail")],
                           className="om-c-detail")],
                 className="om-c-body"),
    ], className="om-console", id="c-root", **DARK_GRID)


def row_out(item: dict, lang: str, tz: str) -> dict:
    """One table row: the incident's fields as words in ``lang`` and local times."""
    w = t(lang)
    en = lang == "en"
    place = (item.get("cell_name_en") if en else None) or item.get("cell_name") or item["cell_code"]
    return {"id": item["id"], "number": item["number"], "received": clock.fmt_local(item["received_at"], tz),
            "category_label": item["category_name_en"] if en else item["category_name"],
            "state_label": w["states"].get(item["state"], item["state"]), "state": item["state"],
            "level_label": w["levels"].get(item["handling_level"], ""),
            "department_label": ((item.get("department_name_en") if en else None) or item.get("department_name")
                                 or ""),
            "place": place, "due": clock.fmt_local(item["due_at"], tz), "overdue": item["overdue"],
            "overdue_label": "⚠ " + w["console"]["yes"] if item["overdue"] else ""}


def small_map(item: dict, route: dict | None, bounds=None) -> dl.Map:
    """The incident's village with its cells and roads, its point and (when chosen) a responder's
    route; opened on ``bounds`` (the incident's cell) when given."""
    lat, lon = item["lat"], item["lon"]
    children = [
        dl.GeoJSON(url=layer_url("cells", item["cell_code"][:12]), style={"color": "#6b93bd", "weight": 1.5,
                                                                         "fillColor": "#1d4e6e",
                                                                         "fillOpacity": 0.25}),
        dl.GeoJSON(url=layer_url("roads", item["cell_code"][:12]), style={"color": "#c9a66b", "weight": 1.5}),
        dl.GeoJSON(id="c-route-layer", data=route, style={"color": "#00f5d4", "weight": 5, "opacity": 0.9}),
        dl.GeoJSON(id="c-place-layer", url=None, style=PLACE_STYLE),  # a place chosen in the search
        dl.CircleMarker(center=[lat, lon], radius=9, color="#ffffff", weight=2, fillColor="#ff4d6d",
                        fillOpacity=1, id="c-marker"),
        dl.ScaleControl(position="bottomleft"),
    ]
    # A new map per incident, opened straight on its cell (``bounds``: no viewport transition) and
    # without animations: a fly or zoom still running when the next incident replaced the map made
    # Leaflet read a position of the removed one ("_leaflet_pos" errors in the browser).
    view = {"bounds": bounds} if bounds else {}
    return dl.Map(children, id="c-map", center=[lat, lon], zoom=13, className="om-c-map",
                  attributionControl=False, zoomAnimation=False, fadeAnimation=False,
                  markerZoomAnimation=False, **view)


PLACE_STYLE = {"color": "#ffd166", "weight": 1.5, "fillColor": "#1d4e6e", "fillOpacity": 0.25}


def place_url(unit: str) -> str:
    """The cells of a chosen place's unit, drawn on the console's map."""
    return layer_url("cells", unit)


def place_map(target: dict) -> dl.Map:
    """The console's map on a place chosen in the search (``search_box.jump_target``): the cells
    and roads of its unit, the place itself ringed."""
    unit = target["unit"]
    children = [
        dl.GeoJSON(id="c-place-layer", url=place_url(unit), style=PLACE_STYLE),
        dl.GeoJSON(url=layer_url("roads", unit), style={"color": "#c9a66b", "weight": 1.5}),
        dl.ScaleControl(position="bottomleft"),
    ]
    if "bounds" in target:
        (s, w), (n, e) = target["bounds"]
        view = {"bounds": target["bounds"], "center": [(s + n) / 2, (w + e) / 2], "zoom": 11}
    else:
        children.append(dl.CircleMarker(center=[target["lat"], target["lon"]], radius=12, color="#ffffff", weight=3,
                                        fill=False, id="c-place-marker"))
        view = {"center": [target["lat"], target["lon"]], "zoom": target["zoom"]}
    return dl.Map(children, id="c-map", className="om-c-map", attributionControl=False, zoomAnimation=False,
                  fadeAnimation=False, markerZoomAnimation=False, **view)


def _step(e: dict, lang: str) -> str:
    """One timeline step in words: what was done and, when it reads differently, the state it led to."""
    w = t(lang)
    did, state = w["actions"].get(e["action"], e["action"]), w["states"].get(e["to_state"], e["to_state"])
    return f" {did}{'' if did == state else ' → ' + state} · {w['levels'].get(e['level'], '')} · {e['actor'] or ''}"


def _timeline(item: dict, lang: str, tz: str) -> html.Ol:
    return html.Ol([html.Li([html.Span(clock.fmt_local(e["at"], tz, "%m-%d %H:%M"), className="om-c-when"),
                             _step(e, lang), *([html.Div(e["note"], className="om-note")] if e.get("note") else [])])
                    for e in item["timeline"]], className="om-c-timeline", id="c-timeline")


def _dispatch(item: dict, lang: str, departments: list[dict], responders: list[dict]) -> list:
    c = t(lang)["console"]
    en = lang == "en"
    opts = [{"label": ((d["name_en"] if en else None) or d["name"]) + (" " + c["suggested"] if d["suggested"] else ""),
             "value": d["code"]} for d in departments]
    pre = next((d["code"] for d in departments if d["suggested"]), None)
    rows = [html.Li([html.Button(c["send"], id={"type": "c-send", "kind": r["kind"], "ref": str(r["ref"]),
                                     "name": str(r["name"] or r["ref"])},
                                 className="om-btn"),
                     html.Button(c["route"], id={"type": "c-path", "from": r["from"]}, className="om-btn"),
                     f" {r['minutes']} {c['minutes']} · {r['name'] or r['ref']}"])
            for r in responders]
    return [html.Div(c["dispatch_to"], className="om-h"),
            html.Div([dcc.Dropdown(id={"type": "c-dept", "n": 0}, className="om-c-dept", options=opts, value=pre,
                                   clearable=False, style={"minWidth": 220}),
                      html.Button(w_action(lang, "dispatch"), id={"type": "c-act", "action": "dispatch"},
                                  className="om-btn primary")], className="om-c-row"),
            html.Div(c["responders"], className="om-h"), html.Ol(rows, id="c-responders")]


def w_action(lang: str, action: str) -> str:
    """The action's button word in ``lang`` (an imperative: 受理, Accept)."""
    return t(lang)["console"].get(f"do_{action}", action)


def detail(item: dict, actions: list[str], lang: str, tz: str, *, read_only: bool, departments: list[dict],
           responders: list[dict], route: dict | None = None, bounds=None) -> list:
    """The incident beside the table: what it is, where, the buttons for ``actions``, photos, timeline, map."""
    w = t(lang)
    c = w["console"]
    en = lang == "en"
    buttons = [html.Button(w_action(lang, a), id={"type": "c-act", "action": a},
                           className=ACTION_CLASS.get(a, "om-btn primary")) for a in actions if a != "dispatch"]
    act_area: list = []
    if read_only:
        act_area = [html.Div(c["read_only"], className="om-note", id="c-read-only")]
    elif actions:
        act_area = [dcc.Textarea(id={"type": "c-note", "n": 0}, placeholder=c["note"], className="om-c-note",
                                 maxLength=4000),
                    html.Div(buttons, className="om-c-actions", id="c-actions")]
        if "dispatch" in actions:
            act_area += _dispatch(item, lang, departments, responders)
    else:
        act_area = [html.Div(c["no_actions"], className="om-note", id="c-actions")]
    photos = [html.A(html.Img(src=f"/api/v1/incidents/{item['id']}/photos/{p['id']}", className="om-c-photo",
                              alt=f"{c['photos']} {p['id']}"),
                     href=f"/api/v1/incidents/{item['id']}/photos/{p['id']}", target="_blank")
              for p in item.get("photos") or []]
    due = clock.fmt_local(item["due_at"], tz)
    return [
        html.Div([html.Span(item["id"][:8], className="om-c-number", id="c-detail-number"),
                  html.Span(item["category_name_en"] if en else item["category_name"], className="om-c-cat")],
                 className="om-c-head"),
        html.Div([html.Span(w["states"].get(item["state"], item["state"]), id="c-detail-state",
                            className="om-c-state " + item["state"]),
                  html.Span(f" · {w['levels'].get(item['handling_level'], '')} · {due}"),
                  html.Span(" ⚠ " + w["overdue"] if item["overdue"] else "", className="om-error")]),
        html.Div(item["cell_code"], className="om-note"),
        html.Div(item["description"] if item.get("description") is not None else c["masked"],
                 className="om-c-desc", id="c-detail-desc"),
        *act_area,
        small_map(item, route, bounds),
        html.Div(id="c-route-info", className="om-note"),
        *([html.Div(c["photos"], className="om-h"), html.Div(photos, className="om-c-photos")] if photos else []),
        html.Div(c["timeline"], className="om-h"), _timeline(item, lang, tz),
    ]
