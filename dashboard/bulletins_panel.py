"""The bulletins panel of the analysts' page: generate a weekly or monthly bulletin of a unit
now (PDF or XLSX, Chinese or English) and list the kept ones with their download links. The
caller comes from the request, never from inputs; ``exports.bulletin`` checks the jurisdiction."""
from __future__ import annotations

from datetime import UTC, datetime

from dash import Input, Output, State, dcc, html, no_update

import exports.bulletin as bl
from dashboard.i18n import t as words
from data import bulletins
from data import stats as agg
from domain import clock, policy
from exports.bulletin.period import last_finished
from layers.base import LayerError
from web.auth import current_actor


def layout(lang: str = "zh") -> html.Div:
    """The panel's form and list."""
    t = words(lang)["bulletin"]["ui"]
    unit_word = words(lang)["analyst"]["unit"]
    field = lambda label, comp: html.Label([html.Span(label, className="analyst-label"), comp],  # noqa: E731
                                           className="analyst-field")
    return html.Div([
        html.H3(t["title"]),
        field(unit_word, dcc.Input(id="bulletin-unit", type="text")),
        field(t["period"], dcc.Input(id="bulletin-period", type="text", placeholder="2026-W47 / 2026-11")),
        field(t["format"], dcc.RadioItems(id="bulletin-format", value="pdf", inline=True,
                                          options=[{"label": "PDF", "value": "pdf"},
                                                   {"label": "XLSX", "value": "xlsx"}])),
        field(t["lang"], dcc.RadioItems(id="bulletin-lang", value=lang, inline=True,
                                        options=[{"label": t["lang_zh"], "value": "zh"},
                                                 {"label": t["lang_en"], "value": "en"}])),
        html.Button(t["generate"], id="bulletin-generate", n_clicks=0, className="analyst-buttons"),
        html.Div(id="bulletin-message", role="alert", className="analyst-message"),
        html.H4(t["kept"]), html.Ul(id="bulletin-list"),
    ], id="bulletin-panel", className="analyst-page")


def _items(dsn: str, actor) -> list:
    tz = agg.region_timezone(dsn, actor.region_code)
    rows = bulletins.listing(dsn, actor.region_code, policy.Caller.of(actor).unit_code, limit=20)
    return [html.Li([f"{clock.fmt_local(r['created_at'], tz)} · {r['name'] or r['unit_code']} · {r['period']} · "
                     f"{r['lang']} · ", html.A(r["file_name"], href=f"/api/v1/bulletins/{r['id']}/file")])
            for r in rows]


def register(app, dsn: str) -> None:
    """Register the panel's callbacks on ``app``."""

    def allowed():
        actor = current_actor()
        return actor if actor is not None and actor.role in bl.ROLES else None

    @app.callback(Output("bulletin-list", "children"), Output("bulletin-message", "children"),
                  Output("bulletin-period", "value"),
                  Input("bulletin-generate", "n_clicks"), State("bulletin-unit", "value"),
                  State("bulletin-period", "value"), State("bulletin-format", "value"),
                  State("bulletin-lang", "value"), State("analyst-lang", "data"))
    def generate(n, unit, period, fmt, blang, lang):
        t, actor = words(lang)["bulletin"]["ui"], allowed()
        if actor is None:
            return [], "403", no_update
        if not n:  # first load: the list, and last week as the suggested period
            today = clock.local_date(datetime.now(UTC), agg.region_timezone(dsn, actor.region_code))
            return _items(dsn, actor), "", last_finished("week", today).text
        try:
            row = bl.generate(dsn, actor, (unit or "").strip() or None, period or "", fmt or "pdf", blang or "zh")
        except LayerError as exc:
            return _items(dsn, actor), t["failed"].format(reason=str(exc)), no_update
        return _items(dsn, actor), t["done"].format(name=row["file_name"]), no_update
