"""The OneMap dashboard: the leaders' page (/), the wall display (/wall), and the map layer routes.

Layers load by ``url=`` from ``/layers/<name>.geojson``; nothing comes from the internet. Every
route and callback reads the signed-in user on the server and clamps what it shows to their
jurisdiction (``web.auth`` keeps anonymous requests out before they get here).
"""
from __future__ import annotations

from urllib.parse import parse_qs

import dash
from dash import Input, Output, dcc, html
from flask import Response, abort, has_request_context, request

from dashboard import console, console_cb, leaders, live, pages_analyst, registry_page, wall
from dashboard.auth import user_badge
from dashboard.i18n import gettext, normalize
from dashboard.mapview import map_query
from data import locale
from data import stats as agg
from db.core import pooled, sql
from layers import registry
from web.auth import current_actor, stream_guard


def actor_unit() -> str:
    """The signed-in user's jurisdiction code; 401 without one (checked in every request)."""
    actor = current_actor()
    if actor is None:
        abort(401)
    return actor.unit_code


def layer_response(dsn: str, name: str) -> Response:
    """A map layer for the signed-in user, from the layer registry (rows of their jurisdiction,
    fields masked for their role; incidents as clusters or points by zoom)."""
    actor = current_actor()
    if actor is None:
        abort(401)
    layer = registry.get(name)  # UnknownLayer: a 404 (the handler below)
    tz = agg.region_timezone(dsn, actor.region_code)  # the range's local days are the region's
    query, zoom = map_query(layer, request.args, lambda *a: leaders.filters_from(*a, tz=tz))
    body = registry.geojson(dsn, name, actor, query, zoom)
    return Response(body, mimetype="application/geo+json", headers={"Cache-Control": "no-store"})


def ui_lang(dsn: str, asked: str | None) -> str:
    """The page's language: ``?lang=`` when the URL says, else the one the user chose last, else Chinese."""
    if asked:
        return normalize(asked)
    actor = current_actor() if has_request_context() else None
    return (locale.user_lang(dsn, actor.user_id) if actor else None) or normalize(None)


def _asked_lang(search: str | None) -> str | None:
    values = parse_qs((search or "").lstrip("?")).get("lang")
    return values[0] if values else None


def _flag(search: str | None, name: str) -> bool:
    """A URL switch such as ``?sound=1`` (1, true, on, yes)."""
    values = parse_qs((search or "").lstrip("?")).get(name) or [""]
    return values[0].strip().lower() in ("1", "true", "on", "yes")


def page_for(dsn: str, region_code: str, path: str, lang: str, search: str | None = None):
    """The page at ``path`` for the signed-in user (an empty shell outside a request); ``search``
    is the URL's query (the wall reads ``sound=1``)."""
    actor = current_actor() if has_request_context() else None
    if actor is None:
        return html.Div(id="page-empty")
    info = agg.unit_info(dsn, region_code, actor.unit_code)
    if info is None:
        return html.Div(f"jurisdiction {actor.unit_code} not found", className="om-note")
    region = locale.region_name(dsn, region_code, lang)  # titles name this county, from its row
    if path.rstrip("/") == "/wall":
        return wall.layout(actor, info, lang, region=region, tz=agg.region_timezone(dsn, region_code),
                           sound=_flag(search, "sound"))
    if path.rstrip("/") == "/console":
        return console.layout(actor, info, lang, region, console_cb.options(dsn, region_code, lang))
    if path.rstrip("/") == "/analyst":
        return html.Div([html.Div([html.A("← " + gettext(lang, "nav.home"), href="/",
                                          className="om-user-logout")], className="om-header"),
                         pages_analyst.layout(lang)], className="om-analyst")
    if path.rstrip("/") == "/registry":
        return html.Div(registry_page.layout(lang, gettext(lang, "nav.home")), className="om-analyst")
    page = leaders.layout(actor, info, lang, region=region)
    return page


def build_dash(dsn: str, region_code: str) -> dash.Dash:
    """The Dash app for one region, with its layer and live routes on the Flask server."""
    app = dash.Dash(__name__, title=gettext(None, "app_title"), update_title="", serve_locally=True,
                    assets_folder="assets", suppress_callback_exceptions=True)
    broker = live.Broker(dsn)
    app.server.extensions["onemap_broker"] = broker  # so a server can drain live streams before it stops
    app.server.extensions["onemap_dash"] = app  # web.security hashes its inline scripts for the CSP

    def page():
        lang = ui_lang(dsn, request.args.get("lang")) if has_request_context() else normalize(None)
        return html.Div([dcc.Location(id="url"), html.Div(id="page")], id="root", **{"data-lang": lang})

    app.layout = page

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def route(path, search):
        lang = ui_lang(dsn, _asked_lang(search))
        return page_for(dsn, region_code, path or "/", lang, search)

    @app.server.route("/layers/<name>.geojson")
    def layer_geojson(name: str):
        return layer_response(dsn, name)

    @app.server.errorhandler(registry.LayerError)
    def layer_refused(exc):
        # unknown layer (404), a unit outside the jurisdiction or a layer not for the role (403),
        # a malformed parameter (400): said in JSON, never a 500
        return {"error": {"code": "refused", "message": str(exc)}}, getattr(exc, "status", 400)

    @app.server.route("/events/stream")
    def events():
        return live.stream(broker, region_code, actor_unit(), still_valid=stream_guard(),
                           caller=current_actor())  # domain.policy decides which events it gets

    @app.server.errorhandler(agg.OutsideJurisdiction)
    def outside(exc):
        # a callback or layer asked for a unit beyond the user's jurisdiction: refuse, don't crash
        return {"error": {"code": "forbidden", "message": str(exc)}}, 403

    @app.server.route("/healthz")
    def healthz():
        with pooled(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        return {"status": "ok"}

    @app.callback(Output("m-user", "children"), Input("lang", "value"))
    def badge(lang):
        return user_badge(current_actor(), lang)

    @app.callback(Output("url", "search"), Input("lang", "value"), prevent_initial_call=True)
    def switch_language(lang):
        actor = current_actor()
        if actor is not None:  # remembered for this user: the next page load opens in it
            locale.set_user_lang(dsn, actor.user_id, normalize(lang))
        return "?lang=en" if lang == "en" else ""

    leaders.register(app, dsn, region_code, actor_unit, lambda: department_names(dsn, region_code))
    console_cb.register(app, dsn, region_code)
    app.server.before_request(console_cb.page_gate)
    pages_analyst.register(app, dsn)
    registry_page.register(app, dsn)
    wall.register(app, dsn, region_code, actor_unit)
    register_script_paths(app)
    return app


def register_script_paths(app: dash.Dash) -> None:
    """Register the page's script and style files now: Dash does it while rendering its first page,
    so a server process whose first request is one of those files (the page came from another
    process) would refuse it with a 500."""
    with app.server.test_request_context("/"):
        app._generate_css_dist_html()  # Dash's own registration: it has no public API for it
        app._generate_scripts_html()


def department_names(dsn: str, region_code: str) -> dict[str, tuple[str, str]]:
    """Department kind → (Chinese, English) name, for chart labels."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("department_names"), {"region_code": region_code})
        rows = cur.fetchall()
    county = locale.region_names(dsn, region_code)[0]  # "<county>公安局" reads "公安局" on a chart
    return {k: (n.removeprefix(county) or n, ne) for k, n, ne in rows}
