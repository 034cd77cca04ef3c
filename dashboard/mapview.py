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
from dash import ClientsideFunction, Input, Output, State, dcc
from dash_extensions.javascript import Namespace

from config import Settings
from dashboard.i18n import CLASS_COLORS, FACILITY_COLORS, gettext, t

NS = Namespace("onemap", "map")
# service circles on the map: (facility kind, minutes) — the seed's 10-minute town and 30-minute pastoral reach
REACH_LAYERS = [("governance_centre", 10), ("governance_centre", 30), ("police_station", 10), ("police_station", 30)]
# Each layer draws in its own pane, so the stacking stays put when a layer is re-rendered and a
# layer switched off stays off (its pane is hidden: assets/onemap.css, ``om-hide-<pane>``).
PANES = {"cells": 410, **{f"reach-{k}-{m}": 415 for k, m in REACH_LAYERS}, "gaps": 418, "patrol": 419,
         "villages": 420, "roads": 430, "towns": 440, "banner": 450, "route": 455, "facilities": 460,
         "station": 465, "houses": 468, "workers": 470, "incidents": 480, "found": 490}
REACH_COLORS = {("governance_centre", 10): "#c77dff", ("governance_centre", 30): "#7b2cbf",
                ("police_station", 10): "#4895ef", ("police_station", 30): "#90e0ef"}
GAP_COLOR = "#ff006e"
PATROL_COLORS = {True: "#57cc99", False: "#ff9f1c"}  # patrolled / not patrolled (assets/onemap.js)
STATION_COLOR = "#7fff00"  # the suggested new station (ΔE ≥ 25 from every other point: test_mapwall_units)
HOUSE_COLOR = "#e9c46a"  # houses: clusters, points and footprints (assets/onemap.js housePoint/houseStyle)
OFF_BY_DEFAULT = {"workers", "houses", "gaps", "patrol", "station", *(f"reach:{k}:{m}" for k, m in REACH_LAYERS)}
# map name → (registry layer, fixed parameters); the incidents' URL follows the viewport (below)
MAP_LAYERS: dict[str, tuple[str, dict[str, object]]] = {
    "cells": ("cells", {}), "villages": ("villages", {}), "towns": ("towns", {}),
    "banner": ("banner", {}), "facilities": ("facilities", {}), "roads": ("roads", {}),
    "workers": ("worker_positions", {}),
    **{f"reach:{k}:{m}": ("isochrones", {"kind": k, "minutes": m}) for k, m in REACH_LAYERS},
    "gaps": ("coverage_gaps", {"kind": "governance_centre"}), "patrol": ("patrol_coverage", {}),
    "houses": ("houses", {})}
# map layers computed on demand, not by a layer URL: name → the registry layer a user must be
# allowed to have it (the suggested station answers where the coverage gaps would close)
COMPUTED_LAYERS = {"station": "coverage_gaps"}
# the layer switch's order (the incidents' layer first: it is the one switched most)
SWITCHABLE = ["incidents", "cells", "villages", "towns", "roads", "facilities", "workers", "houses",
              *(f"reach:{k}:{m}" for k, m in REACH_LAYERS), "gaps", "station", "patrol"]
RESERVED_ARGS = ("unit", "bbox", "zoom", "range", "cat", "level", "v")  # the map's own URL parameters


def pane_of(name: str) -> str:
    """The pane a map layer draws in (``reach:kind:minutes`` → ``reach-kind-minutes``)."""
    return name.replace(":", "-")


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


def register_clientside(app, prefix: str) -> None:
    """The map follows the selected unit in the browser, without refetching a layer: the base
    layers stay those of the jurisdiction, the unit's hideout dims what lies outside it and
    labels its children; the cells' colours are the theme's (a store the server fills)."""
    names = ("villages", "towns", "facilities")
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="unitHideouts"),
                            [Output(component_id(prefix, n), "hideout") for n in names],
                            Input(f"{prefix}-unit", "data"),
                            [State(component_id(prefix, n), "hideout") for n in names])
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="cellHideout"),
                            Output(component_id(prefix, "cells"), "hideout"),
                            Input(f"{prefix}-unit", "data"), Input(f"{prefix}-theme", "data"),
                            State(component_id(prefix, "cells"), "hideout"))


def register_switch(app, prefix: str) -> None:
    """The layer switch hides a layer's pane (a class on the map's wrapper): it stays off through
    a drill-down, a live update and a re-render of the layer, and costs no server callback."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="hiddenPanes"),
                            Output(f"{prefix}-mapwrap", "className"),
                            Input(f"{prefix}-layers", "value"), State(f"{prefix}-layers", "options"))


def register_flash(app, prefix: str) -> None:
    """New reports flash on the map: the incidents' hideout changes in the browser only."""
    app.clientside_callback(ClientsideFunction(namespace="onemap_map", function_name="flashHideout"),
                            Output(f"{prefix}-layer-incidents", "hideout"), Input(f"{prefix}-flash", "data"),
                            State(f"{prefix}-layer-incidents", "hideout"))


def layer_title(name: str, lang: str) -> str:
    """A layer's name in the layer switch (service circles read e.g. '综治中心 10分钟圈')."""
    w = t(lang)
    if name.startswith("reach:"):
        _, kind, minutes = name.split(":")
        return gettext(lang, "circle", facility=w["facilities"][kind], minutes=minutes)
    return w["layers"].get(name) or gettext(lang, f"mw.{name}")


def layer_url(name: str, unit: str | None, **params) -> str:
    """URL of a layer endpoint, limited to ``unit`` (checked again on the server)."""
    query = {k: v for k, v in {"unit": unit, **params}.items() if v not in (None, "", [])}
    return f"/layers/{name}.geojson" + ("?" + urlencode(query, doseq=True) if query else "")


def available(allowed: set[str] | None) -> list[str]:
    """The switchable layers the user may have, in the switch's order."""
    return [n for n in SWITCHABLE if n == "incidents" or allowed is None
            or (MAP_LAYERS[n][0] if n in MAP_LAYERS else COMPUTED_LAYERS[n]) in allowed]


def layer_switch(prefix: str, lang: str, allowed: set[str] | None) -> dcc.Checklist:
    """Our own layer switch (Leaflet's control re-adds a layer whenever it re-renders): its value
    is kept for the browser session, so a language switch keeps it too."""
    names = available(allowed)
    return dcc.Checklist(id=f"{prefix}-layers", className="om-layerbox", persistence=True,
                         persistence_type="session",
                         options=[{"label": layer_title(n, lang), "value": n} for n in names],
                         value=shown_by_default(allowed))


def shown_by_default(allowed: set[str] | None) -> list[str]:
    """The layers switched on when a page first opens."""
    return [n for n in available(allowed) if n not in OFF_BY_DEFAULT]


def hidden_class(shown: list[str], names: list[str]) -> str:
    """The map wrapper's classes for ``shown`` layers among ``names`` (the twin of hiddenPanes)."""
    return " ".join(["om-mapwrap", *(f"om-hide-{pane_of(n)}" for n in names if n not in shown)])


def command_map(prefix: str, unit: str | None, bounds, lang: str = "zh", with_control: bool = True,
                allowed: set[str] | None = None, wall: bool = False) -> dl.Map:
    """The map with every layer, ids prefixed by ``prefix`` (one map per page), each layer of the
    jurisdiction ``unit``; ``allowed`` names the registry layers the user may have
    (``layers.registry.map_layers``): the others stay empty. ``wall``: larger cluster marks."""

    def url(name: str) -> str | None:
        registered, fixed = MAP_LAYERS[name]
        return layer_url(registered, unit, **fixed) if allowed is None or registered in allowed else None

    def layer(name, **kw):
        return dl.GeoJSON(id=component_id(prefix, name), url=url(name), pane=f"pane-{pane_of(name)}", **kw)

    def at(name: str, **kw) -> dict:  # key: where the browser keeps the newest hideout
        return {"lang": lang, "unit": unit, "key": component_id(prefix, name), **kw}

    layers = [
        layer("cells", style=NS("cellStyle"), onEachFeature=NS("label"), hideout=at("cells", values=None)),
        layer("villages", style=NS("villageStyle"), onEachFeature=NS("label"), hideout=at("villages")),
        layer("roads", style=NS("roadStyle")),
        layer("towns", style=NS("townStyle"), onEachFeature=NS("label"), hideout=at("towns")),
        layer("banner", style=NS("bannerStyle")),
        layer("facilities", pointToLayer=NS("facilityPoint"), onEachFeature=NS("label"),
              hideout=at("facilities", colors=FACILITY_COLORS)),
        layer("workers", pointToLayer=NS("workerPoint")),
        dl.GeoJSON(id=f"{prefix}-layer-incidents", url=layer_url("incidents", unit, range="d30"),
                   pane="pane-incidents", pointToLayer=NS("incidentPoint"),
                   hideout={"colors": CLASS_COLORS, "flash": [], "wall": wall}),
    ]
    if with_control:
        for kind, minutes in REACH_LAYERS:
            color = REACH_COLORS[(kind, minutes)]
            layers.append(layer(f"reach:{kind}:{minutes}", style={"color": color, "weight": 1.5, "fillColor": color,
                                                                  "fillOpacity": 0.18}))
        layers.append(layer("gaps", style={"color": GAP_COLOR, "weight": 1, "fillColor": GAP_COLOR,
                                           "fillOpacity": 0.35, "dashArray": "4 3"}))
        layers.append(layer("patrol", style=NS("patrolStyle")))
        # the suggested station: data from a callback on first switching it on (dashboard/station.py)
        layers.append(dl.GeoJSON(id=component_id(prefix, "station"), data=None, pane="pane-station",
                                 pointToLayer=NS("stationPoint"), hideout={"color": STATION_COLOR}))
        # what the search box found (dashboard/leaders_search.py): a ring over it
        layers.append(dl.GeoJSON(id=f"{prefix}-found", data=None, pane="pane-found", pointToLayer=NS("foundPoint")))
        # houses follow the viewport (leaders.py, houseUrl), fetched only while switched on:
        # clusters, points, then footprints from layers.houses.FOOTPRINT_ZOOM
        layers.append(dl.GeoJSON(id=component_id(prefix, "houses"), url=None, pane="pane-houses",
                                 pointToLayer=NS("housePoint"), style=NS("houseStyle"),
                                 hideout={"color": HOUSE_COLOR, "base": url("houses")}))
    route = dl.GeoJSON(id=f"{prefix}-route", data=None, pane="pane-route",
                       style={"color": "#00f5d4", "weight": 6, "opacity": 0.95})
    panes = [dl.Pane(name=f"pane-{n}", style={"zIndex": z}) for n, z in PANES.items()]
    children = [*panes, route, *layers]
    settings = Settings()  # tile_url: e.g. a local MBTiles server or a Tianditu WMTS template
    if settings.tile_url:
        children.append(dl.TileLayer(url=settings.tile_url, attribution=settings.tile_attribution))
    children += [dl.ScaleControl(position="bottomleft", imperial=False), dl.FullScreenControl()]
    (s, w), (n, e) = bounds
    # center/zoom are given with the viewport because dash-leaflet's viewport tracking reads them
    return dl.Map(children, id=f"{prefix}-map", center=[(s + n) / 2, (w + e) / 2], zoom=8,
                  viewport={"bounds": bounds}, minZoom=5, maxZoom=18, zoomSnap=0.25,
                  className="om-map", attributionControl=False)
