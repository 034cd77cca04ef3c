"""The analysts' page (/analyst): choose layers, filters, CRS and format, see the feature count,
run the export in the background and come back for the file. Callbacks are thin: they read the
caller from the request (never from inputs) and call ``exports.service``."""
from __future__ import annotations

import re

from dash import Input, Output, State, dcc, html, no_update

from dashboard import bulletins_panel
from dashboard.i18n import gettext
from dashboard.i18n import t as words
from data import stats as agg
from db.core import pooled, sql
from domain import clock
from exports import jobs
from exports import service as ex
from geo.crs import CRSES
from layers import registry
from layers.base import LayerError, Query, parse_bbox, parse_time, split
from layers.incidents import STATE_WORDS
from web.auth import current_actor

ROLES = ("admin", "dispatcher", "leader", "analyst", "department")
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
FORMAT_TITLES = {"gpkg": "GeoPackage", "geojson": "GeoJSON", "fgb": "FlatGeobuf", "shp": "Shapefile (zip)",
                 "kml": "KML", "csv": "CSV (WKT, Excel)"}


def layout(lang: str = "zh") -> html.Div:
    """The page's components; data arrives through the callbacks."""
    t = words(lang)["analyst"]
    title = (lambda ly: ly.title) if lang == "zh" else (lambda ly: ly.title_en)
    field = lambda label, comp: html.Label([html.Span(label, className="analyst-label"), comp],  # noqa: E731
                                           className="analyst-field")
    return html.Div([
        html.H2(t["title"]),
        dcc.Store(id="analyst-lang", data=lang), dcc.Store(id="analyst-job"),
        dcc.Interval(id="analyst-poll", interval=1000, disabled=True),
        field(t["layers"], dcc.Checklist(id="analyst-layers", value=["incidents"], inline=True,
                                         options=[{"label": title(ly), "value": n}
                                                  for n, ly in registry.LAYERS.items()])),
        field(t["format"], dcc.Dropdown(id="analyst-format", value="gpkg", clearable=False,
                                        options=[{"label": v, "value": k} for k, v in FORMAT_TITLES.items()])),
        field(t["crs"], dcc.Dropdown(id="analyst-crs", value="EPSG:4490", clearable=False,
                                     options=[{"label": f"{k} {c.title}", "value": k} for k, c in CRSES.items()])),
        # dates as YYYY-MM-DD whatever the browser's locale (a date input shows mm/dd/yyyy in en-US)
        field(t["since"], dcc.Input(id="analyst-since", type="text", placeholder=gettext(lang, "mw.date_format"),
                                    pattern=DATE_PATTERN, debounce=True, className="analyst-date")),
        field(t["until"], dcc.Input(id="analyst-until", type="text", placeholder=gettext(lang, "mw.date_format"),
                                    pattern=DATE_PATTERN, debounce=True, className="analyst-date")),
        field(t["categories"], dcc.Dropdown(id="analyst-categories", multi=True, options=[],
                                            placeholder=gettext(lang, "mw.any_category"))),
        field(t["states"], dcc.Dropdown(id="analyst-states", multi=True, options=state_options(lang),
                                        placeholder=gettext(lang, "mw.any_state"))),
        field(t["unit"], dcc.Input(id="analyst-unit", type="text")),
        field(t["bbox"], dcc.Input(id="analyst-bbox", type="text")),
        html.Div([html.Button(t["count"], id="analyst-count", n_clicks=0),
                  html.Button(t["start"], id="analyst-start", n_clicks=0)], className="analyst-buttons"),
        html.Div(id="analyst-preview", className="analyst-preview", role="status"),
        html.Div(id="analyst-counts", className="analyst-counts"),
        html.Div(id="analyst-message", role="alert", className="analyst-message"),
        html.Progress(id="analyst-progress", value="0", max="1", style={"width": "100%"}),
        html.Div(id="analyst-status"),
        html.H3(t["jobs"]), html.Ul(id="analyst-jobs"),
        bulletins_panel.layout(lang),  # weekly and monthly bulletins (issue 16)
    ], id="analyst-page", className="analyst-page")


def state_options(lang: str) -> list[dict]:
    """The state filter's choices in the UI language ('open' stands for every open state)."""
    w = words(lang)
    return [{"label": gettext(lang, "mw.state_open") if s == "open" else w["states"].get(s, s), "value": s}
            for s in STATE_WORDS]


def category_options(dsn: str, lang: str) -> list[dict]:
    """Every incident category by its name in the UI language (the value is its code)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("export_categories"))
        rows = cur.fetchall()
    return [{"label": name_en if lang == "en" else name, "value": code} for code, name, name_en in rows]


def check_date(text: str | None, lang: str) -> None:
    """``LayerError`` unless ``text`` is empty or reads YYYY-MM-DD."""
    if text and not re.fullmatch(DATE_PATTERN, text.strip()):
        raise LayerError(gettext(lang, "mw.bad_date", value=text[:40]))


def request_for(layers, fmt, crs, since, until, categories, states, unit, bbox) -> ex.ExportRequest:
    """The export the form describes; ``LayerError`` names a bad value."""
    query = Query(since=parse_time(since, "since"), until=parse_time(until, "until"), categories=split(categories),
                  states=tuple(states) if states else None, unit=(unit or "").strip() or None, bbox=parse_bbox(bbox))
    return ex.ExportRequest(tuple(layers or ()), fmt or "gpkg", crs or "EPSG:4490", query)


def _job_items(dsn: str, actor, t: dict) -> list:
    items = []
    tz = agg.region_timezone(dsn, actor.region_code)  # job times in the region's zone, not the server's
    for job in jobs.recent(dsn, actor):
        label = (f"{clock.fmt_local(job['created_at'], tz)} · {', '.join(job['layers'])} · "
                 f"{job['format']} · {job['crs']}")
        if job["state"] == "done":
            items.append(html.Li([label, " · ", html.A(t["download"], href=f"/api/exports/{job['id']}/file")]))
        else:
            items.append(html.Li(f"{label} · {job_state_text(job, t)}"))
    return items


def job_state_text(job: dict, t: dict) -> str:
    """A job that has no file to download, in words: queued (with its place), running (how far),
    failed (why) or expired."""
    if job["state"] == "queued":
        return t["queued"].format(n=job.get("position") or 1)
    if job["state"] == "failed":
        return f"{t['failed']}: {job['error'] or ''}"
    if job["state"] == "expired":
        return t["expired"]
    return f"{t['running']} {job['done']:,}/{job['total']:,}"


def register(app, dsn: str) -> None:
    """Register the page's callbacks on ``app``."""
    bulletins_panel.register(app, dsn)
    form = [State("analyst-layers", "value"), State("analyst-format", "value"), State("analyst-crs", "value"),
            State("analyst-since", "value"), State("analyst-until", "value"),
            State("analyst-categories", "value"), State("analyst-states", "value"),
            State("analyst-unit", "value"), State("analyst-bbox", "value")]

    def allowed():
        actor = current_actor()
        return actor if actor is not None and actor.role in ROLES else None

    @app.callback(Output("analyst-counts", "children"), Output("analyst-message", "children", allow_duplicate=True),
                  Input("analyst-count", "n_clicks"), State("analyst-lang", "data"), *form,
                  prevent_initial_call=True)
    def count(_n, lang, *values):
        t, actor = words(lang)["analyst"], allowed()
        if actor is None:
            return no_update, "403"
        try:
            counts = ex.plan(dsn, actor, request_for(*values))
        except LayerError as exc:
            return "", str(exc)
        lines = [html.Div(f"{registry.get(n).title if lang == 'zh' else registry.get(n).title_en}: {c:,}")
                 for n, c in counts.items()]
        return [*lines, html.Strong(t["total"].format(n=f"{sum(counts.values()):,}"))], ""

    @app.callback(Output("analyst-job", "data"), Output("analyst-poll", "disabled"),
                  Output("analyst-message", "children"),
                  Input("analyst-start", "n_clicks"), *form, prevent_initial_call=True)
    def start(_n, *values):
        actor = allowed()
        if actor is None:
            return no_update, True, "403"
        try:
            return ex.start(dsn, actor, request_for(*values)), False, ""
        except LayerError as exc:
            return None, True, str(exc)

    @app.callback(Output("analyst-progress", "value"), Output("analyst-progress", "max"),
                  Output("analyst-status", "children"), Output("analyst-poll", "disabled", allow_duplicate=True),
                  Output("analyst-jobs", "children"),
                  Input("analyst-poll", "n_intervals"), Input("analyst-job", "data"), State("analyst-lang", "data"),
                  prevent_initial_call="initial_duplicate")
    def poll(_n, job_id, lang):
        t, actor = words(lang)["analyst"], allowed()
        if actor is None:
            return "0", "1", "", True, []
        items = _job_items(dsn, actor, t)
        job = jobs.get(dsn, actor, job_id) if job_id else None
        if job is None:
            return "0", "1", "", True, items
        finished = job["state"] in ("done", "failed", "expired")
        status = (html.A(f"{t['download']} {job['file_name']}", href=f"/api/exports/{job_id}/file")
                  if job["state"] == "done" else job_state_text(job, t))
        return str(job["done"]), str(max(job["total"], 1)), status, finished, items

    register_form(app, dsn, form, allowed)


def register_form(app, dsn: str, form: list, allowed) -> None:
    """The form's lists in the UI language and its count preview as it is filled in."""

    @app.callback(Output("analyst-categories", "options"), Input("analyst-lang", "data"))
    def categories(lang):
        return category_options(dsn, lang) if allowed() is not None else []

    @app.callback(Output("analyst-preview", "children"), Input("analyst-lang", "data"),
                  *[Input(s.component_id, s.component_property) for s in form])
    def preview(lang, *values):
        actor = allowed()
        if actor is None or not values[0]:
            return ""
        try:
            check_date(values[3], lang)
            check_date(values[4], lang)
            counts = ex.plan(dsn, actor, request_for(*values))
        except LayerError as exc:
            return html.Span(str(exc), className="analyst-bad")
        return gettext(lang, "mw.preview", n=f"{sum(counts.values()):,}")
