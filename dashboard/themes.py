"""The choropleth themes: per-cell values, class breaks that spread them (quantiles), one colour
per class, and how many cells fall in each class (the legend shows the counts).

A theme's values are read for the selected unit only, so a theme switch costs one query, never
the side panel's charts or a layer's refetch.
"""
from __future__ import annotations

import math

from data import stats as agg
from db.core import pooled, sql
from domain import policy

# colour ramps, low to high: sequential, each step clearly apart from its neighbours on navy
RAMPS = {
    "density": ["#1b3a5c", "#1f6f8b", "#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261"],
    "per_1000": ["#23395d", "#3f5fa8", "#7b4b94", "#b5446e", "#e76f51", "#ffb703"],
    "overdue": ["#1b3a5c", "#e9c46a", "#f4a261", "#e76f51", "#d62828", "#ff006e"],
    "in_grid": ["#9b2226", "#ca6702", "#e9c46a", "#94d2bd", "#2a9d8f", "#0a9396"],
}
NO_DATA = "#3a4a5c"  # cells without a value (residents hidden for the role, no reports)
CLASSES = 5


def quantile_breaks(values: list[float | None], k: int = CLASSES) -> list[float]:
    """Lower bounds of up to ``k`` classes holding about equally many values (duplicates merged,
    so a value heap of zeros is one class, not four); the first bound is the minimum."""
    xs = sorted(v for v in values if v is not None and not math.isnan(v))
    if not xs:
        return []
    breaks: list[float] = []
    for i in range(k):
        b = xs[min(len(xs) - 1, math.floor(i * len(xs) / k))]
        if not breaks or b > breaks[-1]:
            breaks.append(b)
    return breaks


def class_of(value: float | None, breaks: list[float]) -> int | None:
    """The class index of ``value`` (the last break at or below it), None without a value."""
    if value is None or not breaks:
        return None
    index = 0
    for i, b in enumerate(breaks):
        if value >= b:
            index = i
    return index


def theme(values: dict[str, float | None], metric: str) -> dict:
    """Breaks, colours (spread over the ramp when there are fewer classes) and counts per class."""
    breaks = quantile_breaks(list(values.values()))
    ramp = RAMPS.get(metric, RAMPS["density"])
    if len(breaks) <= 1:
        colors = ramp[len(ramp) // 2:len(ramp) // 2 + 1] if breaks else []
    else:
        colors = [ramp[round(i * (len(ramp) - 1) / (len(breaks) - 1))] for i in range(len(breaks))]
    counts = [0] * len(breaks)
    missing = 0
    for v in values.values():
        c = class_of(v, breaks)
        if c is None:
            missing += 1
        else:
            counts[c] += 1
    top = max((v for v in values.values() if v is not None), default=None)
    return {"metric": metric, "classes": breaks, "colors": colors, "counts": counts, "missing": missing,
            "max": top, "values": values, "none": NO_DATA}


def values_for(dsn: str, region_code: str, unit: str, f: agg.Filters, metric: str, caller) -> dict[str, float | None]:
    """Per-cell values of ``metric`` under ``unit``, blanked where ``caller`` may not see the
    resident count they come from (density and reports per 1,000 residents)."""
    if metric == "density":
        with pooled(dsn) as conn, conn.cursor() as cur:
            cur.execute(sql("mapwall_cell_density"), {"region_code": region_code, "scope": unit})
            rows = cur.fetchall()
        return {code: None if policy.suppress(caller, population) is None else density
                for code, population, density in rows}
    metrics = agg.cell_metrics(dsn, region_code, unit, f)
    return {code: None if metric == "per_1000" and policy.suppress(caller, m["population"]) is None
            else m.get(metric) for code, m in metrics.items()}
