"""Plotly figures for the leaders' page, from the plain dicts of ``data.stats``."""
from __future__ import annotations

import plotly.graph_objects as go

from dashboard.i18n import t

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
# a chart before its data: no axes of made-up numbers (0…6) and no white plot on the dark page
EMPTY = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}}


def _layout(fig: go.Figure, height: int = 230, dark: bool = True) -> go.Figure:
    fig.update_layout(template="plotly_dark" if dark else "plotly_white", height=height,
                      margin=dict(l=40, r=10, t=10, b=30),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font=dict(family=FONT, size=12), legend=dict(orientation="h", y=1.12, x=0),
                      bargap=0.15)
    return fig


def trend(rows: list[dict], lang: str) -> go.Figure:
    """Reported, solved and solved in the grid per day/week."""
    w = t(lang)
    x = [r["day"] for r in rows]
    fig = go.Figure([
        go.Bar(x=x, y=[r["reported"] for r in rows], name=w["reported_s"], marker_color="#4cc9f0"),
        go.Scatter(x=x, y=[r["solved"] for r in rows], name=w["solved_s"], line=dict(color="#5ad1a4", width=2)),
        go.Scatter(x=x, y=[r["solved_in_grid"] for r in rows], name=w["in_grid_s"],
                   line=dict(color="#ffd166", width=2, dash="dot")),
    ])
    # one-line day labels in the UI's language (Plotly's default two-line "Nov 1<br>2026" reads
    # "Nov 12026" when flattened, and its month names are English whatever the page says)
    chart = w["chart"]
    return _layout(fig).update_xaxes(type="date", tickformat=chart["tickformat"], hoverformat=chart["hoverformat"])


def categories(rows: list[dict], lang: str) -> go.Figure:
    """Reports per category, largest first."""
    rows = [r for r in rows if r["reported"]][:12][::-1]
    names = [r["name_en"] if lang == "en" else r["name"] for r in rows]
    fig = go.Figure(go.Bar(y=names, x=[r["reported"] for r in rows], orientation="h", marker_color="#7b9acc"))
    return _layout(fig, 300).update_layout(margin=dict(l=150, r=10, t=10, b=30))


def funnel(reached: dict[int, int], lang: str) -> go.Figure:
    """How many reports reached each level of the closed loop."""
    w = t(lang)
    levels = [4, 3, 2, 1]
    fig = go.Figure(go.Funnel(y=[w["levels"][lv] for lv in levels], x=[reached.get(lv, 0) for lv in levels],
                              textinfo="value+percent initial",
                              marker=dict(color=["#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"])))
    return _layout(fig)


def by_child(rows: list[dict], lang: str) -> go.Figure:
    """Open and overdue incidents per child unit."""
    w = t(lang)
    names = [r["name_en"] if lang == "en" and r["name_en"] else r["name"] for r in rows]
    fig = go.Figure([go.Bar(x=names, y=[r["open"] for r in rows], name=w["open_s"], marker_color="#ffd166"),
                     go.Bar(x=names, y=[r["overdue"] for r in rows], name=w["overdue_s"], marker_color="#ff4d6d")])
    return _layout(fig).update_layout(barmode="group")


def departments(rows: list[dict], lang: str, names: dict[str, tuple[str, str]]) -> go.Figure:
    """Per department: solved cases (bars, names written across) and the share closed on time."""
    w = t(lang)
    agg: dict[str, dict] = {}
    for r in rows:
        a = agg.setdefault(r["department_kind"], {"solved": 0, "late": 0})
        a["solved"] += r["solved"]
        a["late"] += r["late"]
    kinds = sorted(agg, key=lambda k: agg[k]["solved"])  # largest at the top
    labels = [names.get(k, (k, k))[1 if lang == "en" else 0] for k in kinds]
    on_time = [round(100 * (agg[k]["solved"] - agg[k]["late"]) / agg[k]["solved"], 1) if agg[k]["solved"] else None
               for k in kinds]
    fig = go.Figure([go.Bar(y=labels, x=[agg[k]["solved"] for k in kinds], name=w["solved_s"], orientation="h",
                            marker_color="#5ad1a4"),
                     go.Scatter(y=labels, x=on_time, name=w["on_time"] + " %", xaxis="x2", mode="markers",
                                marker=dict(color="#ffd166", size=10, symbol="diamond"))])
    height = max(220, 60 + 30 * len(kinds))
    return _layout(fig, height).update_layout(
        margin=dict(l=150, r=10, t=40, b=30), legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
        xaxis2=dict(overlaying="x", side="top", range=[0, 100], showgrid=False, ticksuffix="%"))


def people(rows: list[dict], lang: str) -> go.Figure:
    """Population, households and incidents per child unit (people, houses and cases)."""
    w = t(lang)
    names = [r["name_en"] if lang == "en" and r["name_en"] else r["name"] for r in rows]
    fig = go.Figure([go.Bar(x=names, y=[r["population"] for r in rows], name=w["population"], marker_color="#4cc9f0"),
                     go.Bar(x=names, y=[r["households"] for r in rows], name=w["households"], marker_color="#7b9acc"),
                     go.Bar(x=names, y=[r["reported"] for r in rows], name=w["reported_s"], marker_color="#f4a261")])
    return _layout(fig).update_layout(barmode="group")


def wall_trend(rows: list[dict], lang: str) -> go.Figure:
    """The wall's trend: reported and solved per day, large type."""
    w = t(lang)
    x = [r["day"] for r in rows]
    fig = go.Figure([go.Bar(x=x, y=[r["reported"] for r in rows], name=w["reported_s"], marker_color="#4cc9f0"),
                     go.Scatter(x=x, y=[r["solved"] for r in rows], name=w["solved_s"],
                                line=dict(color="#5ad1a4", width=3))])
    chart = w["chart"]
    return _layout(fig, 190).update_layout(font=dict(family=FONT, size=16), margin=dict(l=50, r=10, t=30, b=34)) \
        .update_xaxes(type="date", tickformat=chart["tickformat"], dtick=86_400_000 * max(1, len(x) // 5))


def wall_overdue(rows: list[dict], lang: str) -> go.Figure:
    """The wall's overdue cases per child unit (towns for a banner), largest first."""
    w = t(lang)
    rows = sorted(rows, key=lambda r: -r["overdue"])[:8][::-1]  # the eight with most, largest at the top
    names = [r["name_en"] if lang == "en" and r["name_en"] else r["name"] for r in rows]
    fig = go.Figure(go.Bar(y=names, x=[r["overdue"] for r in rows], orientation="h", marker_color="#ff4d4d",
                           text=[r["overdue"] for r in rows], textposition="auto", name=w["overdue_s"]))
    return _layout(fig, max(150, 40 + 34 * len(rows))).update_layout(
        font=dict(family=FONT, size=16), margin=dict(l=150, r=10, t=6, b=26), showlegend=False,
        xaxis=dict(rangemode="tozero", range=None if any(r["overdue"] for r in rows) else [0, 1],
                   dtick=max(1, round(max((r["overdue"] for r in rows), default=0) / 5))))  # whole cases
