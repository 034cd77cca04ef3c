"""The command map shared by the leaders' page and the wall: our own vector layers, no base tiles
by default (an intranet tile source is configuration: ``ONEMAP_TILE_URL``)."""
from __future__ import annotations

import os
from urllib.parse import urlencode

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from dashboard.i18n import CLASS_COLORS, t

NS = Namespace("onemap", "map")
# Each layer draws in its own pane, so the stacking stays put when a layer is re-rendered.
PANES = {"cells": 410, "villages": 420, "roads": 430, "towns": 440, "banner": 450, "facilities": 460,
         "workers": 470, "incidents": 480}
METRICS = {  # choropleth: class breaks and colours, low to high
    "density": ([0, 1, 5, 20, 100, 500, 2000],
                ["#16324f", "#1d4e6e", "#21698a", "#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261"]),
    "per_1000": ([0, 50, 150, 300, 600, 1000, 2000],
                 ["#16324f", "#1d4e6e", "#3a5a80", "#7b4b94", "#b5446e", "#e76f51", "#ff3d00"]),
    "overdue": ([0, 1, 2, 4, 8], ["#16324f", "#e9c46a", "#f4a261", "#e76f51", "#ff0000"]),
    "in_grid": ([0, 40, 55, 65, 75, 85], ["#16324f", "#9b2226", "#e76f51", "#e9c46a", "#8ab17d", "#2a9d8f"]),
}


def layer_url(name: str, unit: str | None, **params) -> str:
    """URL of a layer endpoint, limited to ``unit`` (checked again on the server)."""
    query = {k: v for k, v in {"unit": unit, **params}.items() if v not in (None, "", [])}
    return f"/layers/{name}.geojson" + ("?" + urlencode(query, doseq=True) if query else "")


def cell_hideout(metric: str, values: dict | None, lang: str) -> dict:
    """Hideout of the cell layer: class breaks, colours and (except density) the value per cell."""
    classes, colors = METRICS.get(metric, METRICS["density"])
    return {"classes": classes, "colors": colors, "values": None if metric == "density" else values,
            "lang": lang}


def command_map(prefix: str, unit: str | None, bounds, lang: str = "zh", with_control: bool = True) -> dl.Map:
    """The map with every layer, ids prefixed by ``prefix`` (one map per page)."""
    words = t(lang)["layers"]

    def layer(name, **kw):
        return dl.GeoJSON(id=f"{prefix}-layer-{name}", url=layer_url(name, unit), pane=f"pane-{name}", **kw)

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
        ("incidents", dl.GeoJSON(id=f"{prefix}-layer-incidents", url=None, pane="pane-incidents",
                                 pointToLayer=NS("incidentPoint"),
                                 hideout={"colors": CLASS_COLORS, "flash": []})),
    ]
    panes = [dl.Pane(name=f"pane-{n}", style={"zIndex": z}) for n, z in PANES.items()]
    children = [*panes]
    tiles = os.environ.get("ONEMAP_TILE_URL")  # e.g. a local MBTiles server or a Tianditu WMTS template
    if tiles:
        children.append(dl.TileLayer(url=tiles, attribution=os.environ.get("ONEMAP_TILE_ATTRIBUTION", "")))
    if with_control:
        children.append(dl.LayersControl([dl.Overlay(comp, name=words[name], checked=name != "workers")
                                          for name, comp in layers], collapsed=False))
    else:
        children.extend(comp for _, comp in layers)
    children += [dl.ScaleControl(position="bottomleft"), dl.FullScreenControl()]
    (s, w), (n, e) = bounds
    # center/zoom are given with the viewport because dash-leaflet's viewport tracking reads them
    return dl.Map(children, id=f"{prefix}-map", center=[(s + n) / 2, (w + e) / 2], zoom=8,
                  viewport={"bounds": bounds}, minZoom=5, maxZoom=18, zoomSnap=0.25,
                  className="om-map", attributionControl=False)
