"""The command map shared by the leaders' page and the wall: our own vector layers, no base tiles
by default (an intranet tile source is configuration: ``ONEMAP_TILE_URL``).

Every layer on the map comes from the layer registry (``/layers/<name>.geojson``, served by
``layers.registry.geojson`` for the signed-in user): the grid, facilities, roads, workers'
positions, service circles (``isochrones``), coverage gaps and incidents (clusters or points, a
variant chosen by zoom). Layer URLs are built in the browser (``onemap_map`` in assets/onemap.js)
from the URLs made here: a pan, a zoom or a drill-down costs no server callback, and the server
checks the unit again when the URL is fetched.
"""
from __future__ import annotations

from urllib.parse import urlencode

import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State
from dash_extensions.javascript import Namespace

from config import Settings
from dashboard.i18n import CLASS_COLORS, gettext, t

NS = Namespace("onemap", "map")
# Each layer draws in its own pane, so the stacking stays put when a layer is re-rendered.
PANES = {"cells": 410, "reach": 415, "gaps": 418, "villages": 420, "roads": 430, "towns": 440, "banner": 450,
         "route": 455, "facilities": 460, "workers": 470, "incidents": 480}
# service circles on the map: (facility kind, minutes) — the seed's 10-minute town and 30-minute pastoral reach
REACH_LAYERS = [("governance_centre", 10), ("governance_centre", 30), ("police_station", 10), ("police_station", 30)]
METRICS = {  # choropleth: class breaks and colours, low to high
    "density": ([0, 1, 5, 20, 100, 500, 2000],
                ["#16324f", "#1d4e6e", "#21698a", "#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261"]),
    "per_1000": ([0, 50, 150, 300, 600, 1000, 2000],
                 ["#16324f", "#1d4e6e", "#3a5a80", "#7b4b94", "#b5446e", "#e76f51", "#ff3d00"]),
    "overdue": ([0, 1, 2, 4, 8], ["#16324f", "#e9c46a", "#f4a261", "#e76f51", "#ff0000"]),
    "in_grid": ([0, 40, 55, 65, 75, 85], ["#16324f", "#9b2226", "#e76f51", "#e9c46a", "#8ab17d", "#2a9d8f"]),
}


REACH_COLORS = {("governance_centre", 10): "#ef476f", ("governance_centre", 30): "#f78c6b",
                ("police_station", 10): "#118ab2", ("police_station", 30): "#73d2de"}
OFF_BY_DEFAULT = {"workers", "gaps"}
# map name → (registry layer, fixed parameters); the incidents' URL follows the viewport (below)
MAP_LAYERS: dict[str, tuple[str, dict[str, object]]] = {
    "cells": ("cells", {}), "villages": ("villages", {}), "towns": ("towns", {}),
    "banner": ("banner", {}), "facilities": ("facilities", {}), "roads": ("roads", {}),
    "workers": ("worker_positions", {}),
    **{f"reach:{k}:{m}": ("isochrones", {"kind": k, "minutes": m}) for k, m in REACH_LAYERS},
    "gaps": ("coverage_gaps", {"kind": "governance_centre"})}
RESERVED_ARGS = ("unit", "bbox", "zoom", "range", "cat", "level", "v")  # the map's own URL parameters


def component_id(prefix: str, name: str) -> str:
    """The GeoJSON component of map layer ``name`` (``reach:kind:minutes`` → ``…-reach-kind-minutes``)."""
    return f"{prefix}-layer-" + name.replace(":", "-")


def map_query(layer, args, filters_from) -> tuple:
    """``(Query, zoom)`` for a map layer URL's parameters: unit, bbox, zoom, the leaders' filters
    (``range`` of local days, ``cat``, ``level``) and equality on the layer's own fields (a
    service circle's ``kind`` and ``minutes``); anything else is ignored (``v`` busts caches)."""
    from layers.base import LayerError, Query, parse_bbox, split

    zoom = args.get("zoom")
    try:
        zoom = None if zoom in (None, "") else float(zoom)
    except ValueError:
        raise LayerError(f"zoom {zoom[:20]!r} is not a number") from None
    if zoom is not None and not 0 <= zoom <= 24:
        raise LayerError("zoom must be between 0 and 24")
    level = args.get("level")
    level = int(level) if level in ("1", "2", "3", "4") else None
    cats = split(args.getlist("cat")) if hasattr(args, "getlist") else split(args.get("cat"))
    keys = {f.key for f in layer.export_fields}
    props = tuple((k, v) for k, v in args.items() if k in keys and k not in RESERVED_ARGS)
    times = {}
    if "since" in layer.filters and (args.get("range") or layer.name == "incidents"):
        f = filters_from(args.get("range"), None, None).params()
        times = {"since": f["since_ts"], "until": f["until_ts"]}
    query = Query(unit=args.get("unit") or None, bbox=parse_bbox(args.get("bbox")), props=props,
                  categories=cats if "categories" in layer.filters else None,
                  level=level if layer.name == "incidents" else None, **times)
    return query, zoom


def register_clientside(app, prefix: str, names) -> None:
    """Layer URLs follow the selected unit in the browser: the unit parameter of each URL made by
    ``command_map`` is replaced (fixed parameters stay; a layer the role may not have stays off)."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="withUnit"),
                            [Output(component_id(prefix, n), "url") for n in names],
                            Input(f"{prefix}-unit", "data"),
                            [State(component_id(prefix, n), "url") for n in names])


def register_flash(app, prefix: str) -> None:
    """New reports flash on the map: the incidents' hideout changes in the browser only."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="flashHideout"),
                            Output(f"{prefix}-layer-incidents", "hideout"), Input(f"{prefix}-flash", "data"),
                            State(f"{prefix}-layer-incidents", "hideout"))


def layer_title(name: str, lang: str) -> str:
    """A layer's name in the layer control (service circles read e.g. '综治中心 10分钟圈')."""
    w = t(lang)
    if name.startswith("reach:"):
        _, kind, minutes = name.split(":")
        return gettext(lang, "circle", facility=w["facilities"][kind], minutes=minutes)
    return w["layers"][name]


def layer_url(name: str, unit: str | None, **params) -> str:
    """URL of a layer endpoint, limited to ``unit`` (checked again on the server)."""
    query = {k: v for k, v in {"unit": unit, **params}.items() if v not in (None, "", [])}
    return f"/layers/{name}.geojson" + ("?" + urlencode(query, doseq=True) if query else "")


def cell_hideout(metric: str, values: dict | None, lang: str) -> dict:
    """Hideout of the cell layer: class breaks, colours and (except density) the value per cell."""
    classes, colors = METRICS.get(metric, METRICS["density"])
    return {"classes": classes, "colors": colors, "values": None if metric == "density" else values,
            "lang": lang}


def command_map(prefix: str, unit: str | None, bounds, lang: str = "zh", with_control: bool = True,
                allowed: set[str] | None = None) -> dl.Map:
    """The map with every layer, ids prefixed by ``prefix`` (one map per page); ``allowed`` names
    the registry layers the user may have (``layers.registry.map_layers``): the others stay empty."""

    def url(name: str) -> str | None:
        registered, fixed = MAP_LAYERS[name]
        return layer_url(registered, unit, **fixed) if allowed is None or registered in allowed else None

    def layer(name, **kw):
        return dl.GeoJSON(id=component_id(prefix, name), url=url(name), pane=f"pane-{name}", **kw)

    layers = [
        ("cells", layer("cells", style=NS("cellStyle"), onEachFeature=NS("label"),
                        hideout=cell_hideout("density", None, lang))),
        ("villages", layer("villages", style=NS("villageStyle"), onEachFeature=NS("label"), hideout={"lang": lang})),
        ("roads", layer("roads", style=NS("roadStyle"))),
        ("towns", layer("towns", style=NS("townStyle"), onEachFeature=NS("label"),
                        hideout={"lang": lang, "permanent": True})),
        ("banner", layer("banner", style=NS("bannerStyle"))),
        ("facilities", layer("facilities", pointToLayer=NS("facilityPoint"), onEachFeature=NS("label"),
                             hideout={"lang": lang})),
        ("workers", layer("workers", pointToLayer=NS("workerPoint"))),
        ("incidents", dl.GeoJSON(id=f"{prefix}-layer-incidents", url=layer_url("incidents", unit, range="d30"),
                                 pane="pane-incidents",
                                 pointToLayer=NS("incidentPoint"),
                                 hideout={"colors": CLASS_COLORS, "flash": []})),
    ]
    for kind, minutes in REACH_LAYERS:
        layers.append((f"reach:{kind}:{minutes}", dl.GeoJSON(
            id=component_id(prefix, f"reach:{kind}:{minutes}"), url=url(f"reach:{kind}:{minutes}"),
            pane="pane-reach", style={"color": REACH_COLORS[(kind, minutes)], "weight": 1.5,
                                      "fillColor": REACH_COLORS[(kind, minutes)], "fillOpacity": 0.18})))
    layers.append(("gaps", dl.GeoJSON(id=component_id(prefix, "gaps"), url=url("gaps"), pane="pane-gaps",
                                      style={"color": "#ff006e", "weight": 1, "fillColor": "#ff006e",
                                             "fillOpacity": 0.35, "dashArray": "4 3"})))
    route = dl.GeoJSON(id=f"{prefix}-route", data=None, pane="pane-route",
                       style={"color": "#00f5d4", "weight": 6, "opacity": 0.95})
    panes = [dl.Pane(name=f"pane-{n}", style={"zIndex": z}) for n, z in PANES.items()]
    children = [*panes, route]
    settings = Settings()  # tile_url: e.g. a local MBTiles server or a Tianditu WMTS template
    if settings.tile_url:
        children.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    if with_control:
        shown = [(name, comp) for name, comp in layers if name == "incidents" or comp.url]
        children.append(dl.LayersControl([
            dl.Overlay(comp, name=layer_title(name, lang),
                       checked=name not in OFF_BY_DEFAULT and not name.startswith("reach"))
            for name, comp in shown], collapsed=False))
        # a layer the role may not have is left out of the control but kept (empty) for the callbacks
        children.extend(comp for name, comp in layers if name != "incidents" and not comp.url)
    else:
        children.extend(comp for name, comp in layers if not name.startswith("reach") and name != "gaps")
    children += [dl.ScaleControl(position="bottomleft"), dl.FullScreenControl()]
    (s, w), (n, e) = bounds
    # center/zoom are given with the viewport because dash-leaflet's viewport tracking reads them
    return dl.Map(children, id=f"{prefix}-map", center=[(s + n) / 2, (w + e) / 2], zoom=8,
                  viewport={"bounds": bounds}, minZoom=5, maxZoom=18, zoomSnap=0.25,
                  className="om-map", attributionControl=False)
