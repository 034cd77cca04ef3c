"""Search and "jump to", shared by the leaders' page (prefix ``m``) and the console (``c``).

One search (``data.console.search``: incident numbers, grid units, facilities, roads, inside the
caller's jurisdiction), its hits as buttons, and one answer to "where does this hit take the
map" (``jump_target``), which each page then applies: the leaders' page drills down to a unit and
flies to an incident or a place; the console narrows its table and moves its map. The browser
side of the move is ``onemap_jump.go`` (assets/onemap_jump.js).
"""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard.i18n import gettext, t
from data import console, incidents
from data import stats as agg
from db.core import pooled

POINT_ZOOM = 15  # a place or an incident is shown at this zoom


def box(prefix: str, lang: str, placeholder: str | None = None) -> html.Div:
    """The search field and the list its hits appear in (below it, over the page)."""
    return html.Div([dcc.Input(id=f"{prefix}-search", type="search", debounce=True, className="om-input",
                               placeholder=placeholder or gettext(lang, "mw.search"), maxLength=console.TEXT_MAX),
                     html.Div(id=f"{prefix}-search-results", className="om-c-results")],
                    className="om-c-search", id=f"{prefix}-search-box")


def hit_ref(hit: dict) -> str:
    """What a hit's button carries: an incident's id, a unit's code, else its point (lon,lat)."""
    if hit["kind"] in ("incident", "unit"):
        return hit["ref"]
    return f"{hit['lon']:.6f},{hit['lat']:.6f}"


def results(dsn: str, actor, text, lang: str, prefix: str) -> list:
    """The hits for ``text`` as buttons (id ``{type: <prefix>-hit, kind, ref}``), or a note."""
    text = text if isinstance(text, str) else ""
    if not text.strip():
        return []
    with pooled(dsn) as conn:
        hits = console.search(conn, actor, text)
    c = t(lang)["console"]
    if not hits:
        return [html.Div(c["search_none"], className="om-note")]
    en = lang == "en"
    return [html.Button([html.Span(c[f"kind_{h['kind']}"], className="om-c-kind"),
                         f" {h['ref'][:8] + ' · ' if h['kind'] == 'incident' else ''}"
                         f"{(h['name_en'] if en else None) or h['name']}"],
                        id={"type": f"{prefix}-hit", "kind": h["kind"], "ref": hit_ref(h)}, className="om-c-hit")
            for h in hits]


def _point(ref) -> tuple[float, float] | None:
    try:
        lon, lat = (float(v) for v in str(ref).split(","))
    except ValueError:
        return None
    return (lon, lat) if abs(lon) <= 180 and abs(lat) <= 90 else None


def jump_target(dsn: str, actor, kind, ref) -> dict | None:
    """Where a chosen hit takes the map, checked again inside ``actor``'s jurisdiction (a button's
    id comes from the browser): ``{kind, unit, bounds}`` for a grid unit; ``{kind, lon, lat, zoom,
    unit}`` for an incident (``id`` too) or a place, ``unit`` being the village around it. None
    for anything else."""
    if kind == "unit":
        code = str(ref)
        if not code.isdigit():
            return None
        try:
            code = agg.scope_for(actor.unit_code, code)
        except agg.OutsideJurisdiction:
            return None
        info = agg.unit_info(dsn, actor.region_code, code)
        return {"kind": "unit", "unit": code, "bounds": info["bounds"]} if info else None
    if kind == "incident":
        try:
            with pooled(dsn) as conn:
                item = incidents.get(conn, actor, str(ref))
        except incidents.IncidentError:
            return None
        return {"kind": "incident", "id": item["id"], "lon": item["lon"], "lat": item["lat"], "zoom": POINT_ZOOM + 1,
                "unit": _village(actor, item["cell_code"])}
    if kind in ("facility", "road"):
        point = _point(ref)
        if point is None:
            return None
        cell = agg.cell_at(dsn, actor.region_code, *point)
        if not cell or not cell.startswith(actor.unit_code):
            return None
        return {"kind": kind, "lon": point[0], "lat": point[1], "zoom": POINT_ZOOM, "unit": _village(actor, cell)}
    return None


def _village(actor, cell: str) -> str:
    """The village holding ``cell`` (the jurisdiction itself when it is a village or a cell)."""
    return cell[:max(12, len(actor.unit_code))]


def register_go(app, prefix: str) -> None:
    """The browser moves the page's map (``<prefix>-map``) when its ``<prefix>-jump`` store gets a target."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_jump", function_name="go"),
                            Output(f"{prefix}-jump", "id"), Input(f"{prefix}-jump", "data"),
                            State(f"{prefix}-jump", "id"), prevent_initial_call=True)
