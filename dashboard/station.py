"""The suggested new station as a map layer: ``data.routing.suggestion`` (the API's cached answer,
for the signed-in user's jurisdiction) drawn as a point with its numbers as text.

Computed on first switching the layer on, never when the page opens: the first computation of a
jurisdiction takes seconds, so the layer panel says "computing…" while it runs (the page stays
live); later toggles, drill-downs and other users read the cached answer.
"""
from __future__ import annotations

from dash import Input, Output, html, no_update

from dashboard.i18n import gettext, t
from dashboard.mapview import COMPUTED_LAYERS, component_id
from data.routing import suggestion
from db.core import writer
from domain import policy
from layers import registry
from web.auth import current_actor

KIND = "governance_centre"  # the station the gaps layer measures (mapview.MAP_LAYERS["gaps"])


def _pct(v) -> str:
    return "–" if v is None else f"{float(v) * 100:.1f}%"


def label(props: dict, lang: str, caller) -> str:
    """One suggested site in words: which kind, residents and gap cells newly reached (a count of
    1–4 blanked for ``caller`` as ``domain.policy`` blanks people counts), coverage before → after,
    demand points weighed."""
    w = t(lang)
    residents = policy.suppress(caller, round(float(props["gap_population_reached"])))
    return gettext(lang, "mw.station_label", facility=w["facilities"].get(props["kind"], props["kind"]),
                   residents="–" if residents is None else f"{residents:,}", cells=props["cells"],
                   before=_pct(props.get("share_before")), after=_pct(props.get("share_after")),
                   points=props.get("demand_points") or 0)


def layer_data(answer: dict, lang: str, caller) -> dict:
    """The answer's picks as the map layer's GeoJSON, each with its ``label`` in ``lang`` (and
    the residents reached blanked as the label blanks them)."""
    fc = suggestion.features(answer)
    for f in fc["features"]:
        p = f["properties"]
        p["label"] = label(p, lang, caller)
        if policy.suppress(caller, round(float(p["gap_population_reached"]))) is None:
            p["gap_population_reached"] = None
    return fc


def status_box(lang: str) -> html.Div:
    """Under the layer switch: "computing…" while the suggestion is computed, then what it found."""
    return html.Div([html.Span(gettext(lang, "mw.station_computing"), className="om-station-busy"),
                     html.Span(id="m-station-text")], id="m-station-status", className="om-station-status")


def register(app, dsn: str) -> None:
    """Compute (or read) the suggestion when the layer is on; the status shows while it runs."""
    layer_id = component_id("m", "station")

    @app.callback(Output(layer_id, "data"), Output("m-station-text", "children"),
                  Input("m-layers", "value"), Input("lang", "value"),
                  running=[(Output("m-station-status", "className"), "om-station-status busy",
                            "om-station-status")])
    def station(shown, lang):
        if not isinstance(shown, list) or "station" not in shown:
            return no_update, no_update  # off: the pane is hidden, what was computed stays
        caller = current_actor()
        if COMPUTED_LAYERS["station"] not in registry.map_layers(caller):
            return no_update, no_update  # the layer switch never offered it (mapview.available)
        with writer(dsn) as conn:
            answer = suggestion.current(conn, caller, KIND)
        fc = layer_data(answer, lang, caller)
        if not fc["features"]:
            return fc, gettext(lang, "mw.station_none")
        return fc, fc["features"][0]["properties"]["label"]
