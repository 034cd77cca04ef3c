"""The dispatch console's callbacks (layout in ``dashboard.console``).

Each callback reads the signed-in user on the server (``current_actor``) and refuses roles the
console is not for; rows, search and the incident come from ``data.console`` and
``data.incidents`` within the user's jurisdiction; actions go through ``data.incidents.act``
with the version the user saw, so a change made by someone else meanwhile shows as a conflict.
"""
from __future__ import annotations

import json
import uuid

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, html, no_update
from flask import abort, request

from dashboard import console as page
from dashboard import search_box
from dashboard.i18n import t
from data import console, incidents
from data import stats as agg
from data.routing import route as routing
from db.core import pooled, writer
from web.auth import current_actor

ALERT_KINDS = ("escalated", "overdue")


def _lang(value) -> str:
    """The UI language from a callback's value (anything else: Chinese)."""
    return "en" if value == "en" else "zh"


def _incident_id(value) -> str | None:
    """An incident id from a callback's value (a UUID string), else None."""
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _seen(value) -> dict | None:
    """What the page says the user saw (id, version), when well-formed."""
    if not isinstance(value, dict) or not _incident_id(value.get("id")):
        return None
    version = value.get("version")
    return value if isinstance(version, int) and not isinstance(version, bool) and version >= 0 else None


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31 else 0


def viewer():
    """The signed-in user if the console is for them (403 otherwise)."""
    actor = current_actor()
    if actor is None:
        abort(401)
    if actor.role not in console.VIEW_ROLES or actor.read_only:
        abort(403)
    return actor


def worker():
    """The signed-in user if they may act on the console (403 for leaders and read-only sessions)."""
    actor = viewer()
    if actor.role not in console.WORK_ROLES:
        abort(403)
    return actor


def page_gate() -> None:
    """before_request: the /console page itself answers 403 to a role it is not for."""
    if request.path.rstrip("/") == "/console" and current_actor() is not None:
        viewer()


def options(dsn: str, region_code: str, lang: str) -> dict:
    """The filter choices in ``lang``: categories and departments."""
    en = lang == "en"
    with pooled(dsn) as conn:
        cats = console.categories(conn)
        depts = console.departments(conn, region_code)
    return {"categories": [{"label": c["name_en"] if en else c["name"], "value": c["code"]} for c in cats],
            "departments": [{"label": (d["name_en"] if en else None) or d["name"], "value": d["code"]}
                            for d in depts]}


def _arg_int(args, key: str, default: int, top: int) -> int:
    """A whole number 0..``top`` from the query string, else ``default``."""
    text = args.get(key, "")
    return int(text) if text.isdigit() and len(text) < 10 and int(text) <= top else default


def _count_word(n: int) -> str:
    """A count as the console shows it: past the cap, "10,000+"."""
    return f"{console.COUNT_CAP:,}+" if n > console.COUNT_CAP else str(n)


def rows_response(dsn: str, zone: str, args) -> tuple[dict, int]:
    """GET /console/rows: one page of the console's table for the signed-in user, as JSON
    (``rows``; ``total``, null past ``data.console.COUNT_CAP``; ``label``, the count in words).
    Query string: ``q`` (the filters as JSON, the ``c-query`` store), ``start``, ``end``, ``sort``
    (a column), ``dir`` (asc or desc), ``lang``. Bad filters are dropped as on the page; a malformed ``q`` is a 400."""
    actor = viewer()
    lang = _lang(args.get("lang"))
    try:
        raw = json.loads(args.get("q") or "{}")
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or len(args.get("q") or "") > 4000:
        return {"error": {"code": "bad_request", "message": "q: the filters as a JSON object"}}, 400
    q = console.parse_query(raw)
    start = _arg_int(args, "start", 0, 10**7)
    end = _arg_int(args, "end", start + page.GRID_PAGE, 10**7 + console.PAGE_MAX)
    key = args.get("sort") if args.get("sort") in console.SORTS else "received_at"
    try:
        with pooled(dsn) as conn:
            items, total = console.page(conn, actor, q, tz=zone, sort=key, desc=args.get("dir") != "asc",
                                        start=start, end=max(end, start + 1))
    except incidents.Forbidden:
        items, total = [], 0
    c = t(lang)["console"]
    if total > console.COUNT_CAP:  # counted up to the cap: the grid learns the end when it reaches it
        return {"rows": [page.row_out(i, lang, zone) for i in items], "total": None,
                "label": c["rows_more"].format(n=f"{console.COUNT_CAP:,}")}, 200
    return {"rows": [page.row_out(i, lang, zone) for i in items], "total": total,
            "label": c["rows"].format(n=total)}, 200


def register(app, dsn: str, region_code: str) -> None:
    """Every callback of the console page."""
    tz = lambda: agg.region_timezone(dsn, region_code)  # noqa: E731
    _register_table(app, dsn, tz)
    _register_detail(app, dsn, region_code, tz)
    _register_actions(app, dsn)
    _register_search(app, dsn)
    _register_live(app)


def _register_table(app, dsn: str, tz) -> None:
    @app.callback(Output("c-query", "data"), Output("c-filter-error", "children"),
                  Input("c-number", "value"), Input("c-text", "value"), Input("c-cat", "value"),
                  Input("c-state", "value"), Input("c-dept-filter", "value"), Input("c-level", "value"),
                  Input("c-overdue", "value"), Input("c-since", "value"), Input("c-until", "value"),
                  Input("c-queue", "value"), Input("c-unit", "data"), State("lang", "value"))
    def query(number, text, cats, states, depts, levels, overdue, since, until, queue, unit, lang):
        lang = _lang(lang)
        number, text, since, until = (v if isinstance(v, str) else None for v in (number, text, since, until))
        cats, states, depts, levels = (v if isinstance(v, list) else None for v in (cats, states, depts, levels))
        unit = unit if isinstance(unit, dict) and isinstance(unit.get("code"), str) else None
        viewer()
        raw = {"number": number, "text": text, "categories": cats, "states": states, "departments": depts,
               "levels": levels, "overdue": overdue is True or (isinstance(overdue, list) and bool(overdue)),
               "since": since, "until": until, "queue": queue if queue in console.QUEUES else None,
               "unit": unit["code"] if unit else None}
        q = console.parse_query(raw)
        bad = ", ".join(t(lang)["console"][f"f_{k}"] for k in q.errors)
        return raw, (t(lang)["console"]["f_bad"].format(fields=bad) if bad else "")

    @app.callback(Output("c-number", "value"), Output("c-text", "value"), Output("c-cat", "value"),
                  Output("c-state", "value"), Output("c-dept-filter", "value"), Output("c-level", "value"),
                  Output("c-overdue", "value"), Output("c-since", "value"), Output("c-until", "value"),
                  Output("c-unit", "data", allow_duplicate=True),
                  Input("c-clear", "n_clicks"), prevent_initial_call=True)
    def clear(_n):
        return "", "", [], [], [], [], [], "", "", None

    # the table's rows come from /console/rows (``rows_response``), fetched by the grid's own
    # datasource in assets/console.js: each answer goes to the request that asked for it
    app.clientside_callback(ClientsideFunction(namespace="onemap_console", function_name="reload"),
                            Output("c-grid", "id"), Input("c-query", "data"), Input("c-refresh", "data"),
                            State("c-grid", "id"), State("lang", "value"), State("c-words", "data"),
                            prevent_initial_call=True)

    @app.server.route("/console/rows")
    def rows():
        return rows_response(dsn, tz(), request.args)

    @app.callback(Output("c-queue", "options"), Input("c-refresh", "data"), Input("lang", "value"))
    def queue_counts(_tick, lang):
        lang = _lang(lang)
        actor = viewer()
        c = t(lang)["console"]
        with pooled(dsn) as conn:
            counts = console.queue_counts(conn, actor, tz=tz())
        return [{"label": c["queue_all"], "value": "all"}] + [
            {"label": f"{c[f'queue_{q}']} ({_count_word(counts[q])})", "value": q} for q in console.QUEUES]


def _register_detail(app, dsn: str, region_code: str, tz) -> None:
    @app.callback(Output("c-selected", "data"),
                  Input("c-grid", "cellClicked"), Input({"type": "c-alert-open", "ref": ALL, "level": ALL}, "n_clicks"),
                  prevent_initial_call=True)
    def select(cell, _alerts):
        viewer()
        trigger = ctx.triggered_id
        if trigger == "c-grid":
            return _incident_id(cell.get("rowId")) if isinstance(cell, dict) else None
        if isinstance(trigger, dict) and ctx.triggered[0]["value"]:
            return _incident_id(trigger.get("ref"))
        return no_update

    @app.callback(Output("c-detail", "children"), Output("c-seen", "data"),
                  Output("c-message", "children", allow_duplicate=True),
                  Input("c-selected", "data"), Input("c-refresh", "data"), State("c-seen", "data"),
                  State("lang", "value"), prevent_initial_call=True)
    def show(selected, _tick, seen, lang):
        lang, selected, seen = _lang(lang), _incident_id(selected), _seen(seen)
        actor = viewer()
        if not selected or (ctx.triggered_id == "c-refresh" and seen and seen.get("id") != selected):
            return no_update, no_update, no_update
        cleared = "" if ctx.triggered_id == "c-selected" else no_update  # another incident: no old message
        try:
            with pooled(dsn) as conn:
                item = incidents.get(conn, actor, selected)
                if ctx.triggered_id == "c-refresh" and seen and seen.get("version") == item["version"]:
                    return no_update, no_update, no_update  # unchanged: keep the panel (and a note being typed)
                actions = console.console_actions(actor, item["allowed_actions"])
                depts = console.departments(conn, region_code, item["category"]) if "dispatch" in actions else []
                ranked = _responders(conn, actor, selected) if "dispatch" in actions else []
        except incidents.NotFound:
            return html.Div(t(lang)["console"]["pick"], className="om-note"), None, cleared
        cell = agg.unit_info(dsn, region_code, item["cell_code"])
        body = page.detail(item, actions, lang, tz(), read_only=actor.role not in console.WORK_ROLES,
                           departments=depts, responders=ranked, bounds=cell["bounds"] if cell else None)
        return body, {"id": item["id"], "version": item["version"], "state": item["state"]}, cleared

    @app.callback(Output("c-route-layer", "data"), Output("c-route-info", "children"),
                  Input({"type": "c-path", "from": ALL}, "n_clicks"), State("c-seen", "data"),
                  State("lang", "value"), prevent_initial_call=True)
    def route(_clicks, seen, lang):
        lang, seen = _lang(lang), _seen(seen)
        actor = viewer()
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"] or not seen \
                or not isinstance(trigger.get("from"), str):
            return no_update, no_update
        try:
            with pooled(dsn) as conn:
                feature = routing.route_for(conn, actor, trigger["from"], f"incident:{seen['id']}")
        except incidents.IncidentError as exc:
            return None, exc.message
        p = feature["properties"]
        return feature, f"{p['minutes']} {t(lang)['console']['minutes']} · {p['length_m'] / 1000:.1f} km"


def _responders(conn, actor, incident_id) -> list[dict]:
    """Who could go, nearest by road first (none when the incident is far from any road)."""
    try:
        return routing.responders(conn, actor, incident_id, limit=5)["items"]
    except incidents.IncidentError:
        return []


def _register_actions(app, dsn: str) -> None:
    @app.callback(Output("c-message", "children"), Output("c-refresh", "data", allow_duplicate=True),
                  Input({"type": "c-act", "action": ALL}, "n_clicks"),
                  Input({"type": "c-send", "kind": ALL, "ref": ALL, "name": ALL}, "n_clicks"),
                  State({"type": "c-note", "n": ALL}, "value"), State({"type": "c-dept", "n": ALL}, "value"),
                  State("c-seen", "data"), State("c-refresh", "data"), State("lang", "value"),
                  prevent_initial_call=True)
    def act(_acts, _sends, notes, depts, seen, tick, lang):
        lang, seen, tick = _lang(lang), _seen(seen), _int(tick)
        notes = [n if isinstance(n, str) else None for n in notes] if isinstance(notes, list) else []
        depts = [d if isinstance(d, str) else None for d in depts] if isinstance(depts, list) else []
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"] or not seen:
            return no_update, no_update
        actor = worker()
        c = t(lang)["console"]
        note = (notes or [None])[0]
        department = (depts or [None])[0]
        action = trigger.get("action", "dispatch")
        if not (isinstance(action, str) and all(isinstance(trigger.get(k, ""), str) for k in ("kind", "ref", "name"))):
            return no_update, no_update
        if trigger["type"] == "c-send":  # a responder: their department, or the chosen one and a note
            if trigger["kind"] == "department":
                department = trigger["ref"]
            else:
                note = c["responder_note"].format(name=trigger["name"]) + (f" · {note}" if note else "")
        try:
            note = console.check_reason(action, note)
            with writer(dsn) as conn:
                incidents.act(conn, actor, seen["id"], action, note=note,
                              department=department if action == "dispatch" else None,
                              expected_version=seen["version"])
        except incidents.Stale as exc:
            state = t(lang)["states"].get(exc.extra.get("state"), exc.extra.get("state"))
            return html.Div(c["stale"].format(state=state), className="om-c-conflict", id="c-conflict"), (tick or 0) + 1
        except incidents.IncidentError as exc:
            message = c["need_reason"] if exc.fields.get("note") else exc.message
            return html.Div(c["refused"].format(message=message), className="om-c-refused", id="c-refused"), no_update
        return html.Div(c["done"].format(action=page.w_action(lang, action)), className="om-c-done",
                        id="c-done"), (tick or 0) + 1


def _register_search(app, dsn: str) -> None:
    search_box.register_go(app, "c")  # the console's map follows a chosen place

    @app.callback(Output("c-search-results", "children"), Input("c-search", "value"), State("lang", "value"),
                  prevent_initial_call=True)
    def search(text, lang):
        return search_box.results(dsn, viewer(), text, _lang(lang), "c")

    @app.callback(Output("c-unit", "data"), Output("c-search-results", "children", allow_duplicate=True),
                  Output("c-unit-label", "children"), Output("c-selected", "data", allow_duplicate=True),
                  Output("c-jump", "data"), Output("c-detail", "children", allow_duplicate=True),
                  Input({"type": "c-hit", "kind": ALL, "ref": ALL}, "n_clicks"), State("c-seen", "data"),
                  State("lang", "value"), prevent_initial_call=True)
    def choose(_clicks, seen, lang):
        lang = _lang(lang)
        actor = viewer()
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return (no_update,) * 6
        target = search_box.jump_target(dsn, actor, trigger.get("kind"), trigger.get("ref"))
        if target is None:
            return no_update, [], no_update, no_update, no_update, no_update
        if target["kind"] == "incident":  # the incident opens beside the table, its map on it
            return no_update, [], no_update, target["id"], no_update, no_update
        # a place: the table narrows to its unit (a facility or road: its village) and the map moves
        # there — the open incident's map, or a map of the place when none is open
        unit = target["unit"]
        target["outline"] = page.place_url(unit)  # drawn on the open incident's map too
        target["fly"] = False  # no animation on the small map (see dashboard.console.small_map)
        shown = no_update if _seen(seen) else [page.place_map(target)]
        return {"code": unit}, [], f"{t(lang)['console']['f_unit']}: {unit}", no_update, target, shown


def _register_live(app) -> None:
    @app.callback(Output("c-refresh", "data"), Output("c-alert-list", "data"), Output("c-alerted", "data"),
                  Output("c-beep", "data"), Output("c-live", "className"), Output("c-live", "children"),
                  Input("c-events", "message"), Input("c-events", "readyState"), Input("c-dismiss", "n_clicks"),
                  State("c-refresh", "data"), State("c-alert-list", "data"), State("c-alerted", "data"),
                  State("c-beep", "data"), State("lang", "value"), prevent_initial_call=True)
    def live(message, ready, _dismiss, tick, alerts, alerted, beep, lang):
        lang, tick, beep = _lang(lang), _int(tick), _int(beep)
        alerts = [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []
        alerted = [k for k in alerted if isinstance(k, str)] if isinstance(alerted, list) else []
        message = message if isinstance(message, str) else None
        viewer()
        w = t(lang)
        status = ("om-live", w["live_on"]) if ready == 1 else ("om-live off", w["live_off"])
        if ctx.triggered_id == "c-dismiss":
            return no_update, [], no_update, no_update, *status
        if ctx.triggered_id != "c-events" or not message:
            return no_update, no_update, no_update, no_update, *status
        try:
            event = json.loads(message)
        except ValueError:
            return no_update, no_update, no_update, no_update, *status
        alert = alert_for(event)
        if alert is None or alert["key"] in (alerted or []):
            return (tick or 0) + 1, no_update, no_update, no_update, *status
        return ((tick or 0) + 1, ([alert] + (alerts or []))[:20], ((alerted or []) + [alert["key"]])[-500:],
                (beep or 0) + 1, *status)

    @app.callback(Output("c-alerts", "children"), Output("c-alert-bar", "style"),
                  Input("c-alert-list", "data"), State("lang", "value"))
    def show_alerts(alerts, lang):
        lang = _lang(lang)
        alerts = ([a for a in alerts if isinstance(a, dict) and _incident_id(a.get("id"))
                   and a.get("kind") in ALERT_KINDS] if isinstance(alerts, list) else [])
        if not alerts:
            return [], {"display": "none"}
        w = t(lang)
        c = w["console"]
        rows = [html.Div([html.Span(c[f"alert_{a['kind']}"].format(number=a["id"][:8],
                                                                   level=w["levels"].get(a["level"], "")),
                                    className="om-c-alert-text"),
                          html.Button(c["open"], className="om-btn",
                                      id={"type": "c-alert-open", "ref": a["id"], "level": str(a["level"])})],
                         className="om-c-alert " + a["kind"]) for a in alerts]
        return rows, {"display": "flex"}

    app.clientside_callback(ClientsideFunction(namespace="onemap_sound", function_name="consoleBeep"),
                            Output("c-beep", "id"), Input("c-beep", "data"), State("c-sound", "value"),
                            State("c-beep", "id"), prevent_initial_call=True)


def alert_for(event: dict) -> dict | None:
    """The alert an event raises, once per incident and level: an escalation (a deadline missed),
    or an action on an incident that is overdue. None for anything else."""
    if "incident_id" not in event:
        return None
    level = event.get("level")
    if event.get("action") == "escalate":
        kind = "escalated"
    elif event.get("overdue"):
        kind = "overdue"
    else:
        return None
    return {"key": f"{event['incident_id']}:{level}", "id": event["incident_id"], "level": level, "kind": kind}
