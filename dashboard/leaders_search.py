"""The leaders' page's search box: hits from the one search (``dashboard.search_box``); choosing
one drills down to a unit, or flies to an incident (its panel opens) or a place (ringed on the map)."""
from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, no_update

from dashboard import search_box
from data import incidents
from data import stats as agg
from web.auth import current_actor


def found_feature(target: dict) -> dict:
    """The ring that marks a chosen incident or place on the map."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [target["lon"], target["lat"]]},
         "properties": {"kind": target["kind"]}}]}


def register(app, dsn: str, region_code: str, clamp, detail) -> None:
    """``clamp(unit)``: the unit inside the jurisdiction; ``detail(id, lang)``: an incident's panel."""
    search_box.register_go(app, "m")

    @app.callback(Output("m-search-results", "children"), Input("m-search", "value"), State("lang", "value"),
                  prevent_initial_call=True)
    def search(text, lang):
        return search_box.results(dsn, current_actor(), text, "en" if lang == "en" else "zh", "m")

    @app.callback(Output("m-unit", "data", allow_duplicate=True), Output("m-jump", "data"),
                  Output("m-found", "data"), Output("m-search-results", "children", allow_duplicate=True),
                  Output("m-detail", "children", allow_duplicate=True),
                  Output("m-detail", "style", allow_duplicate=True),
                  Input({"type": "m-hit", "kind": ALL, "ref": ALL}, "n_clicks"), State("lang", "value"),
                  prevent_initial_call=True)
    def choose(_clicks, lang):
        trigger = ctx.triggered_id
        nothing = (no_update,) * 6
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return nothing
        target = search_box.jump_target(dsn, current_actor(), trigger.get("kind"), trigger.get("ref"))
        if target is None:
            return (no_update, no_update, no_update, [], no_update, no_update)
        if target["kind"] == "unit":  # drill down: the map, the numbers and the charts follow the unit
            try:
                return clamp(target["unit"]), no_update, None, [], no_update, no_update
            except agg.OutsideJurisdiction:
                return (no_update, no_update, no_update, [], no_update, no_update)
        if target["kind"] == "incident":  # fly there, ring it and open its panel
            try:
                panel = detail(target["id"], "en" if lang == "en" else "zh")
            except incidents.IncidentError:
                return (no_update, no_update, no_update, [], no_update, no_update)
            return no_update, target, found_feature(target), [], panel, {"display": "block"}
        return no_update, target, found_feature(target), [], no_update, no_update
