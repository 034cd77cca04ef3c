"""The bulletin's two pictures as SVG (drawn here, offline, no plotting library): the unit's
cells shaded by the period's reports, and the daily trend of reports and solutions. Every name
and number is escaped text; nothing from the data becomes markup."""
from __future__ import annotations

import math
from html import escape

COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")  # ColorBrewer YlOrRd, 5 classes
EMPTY = "#f0f0f0"


def breaks(values: list[int]) -> list[int]:
    """Upper bounds of up to five classes over the non-zero values (quantiles, distinct)."""
    nz = sorted(v for v in values if v > 0)
    if not nz:
        return []
    out: list[int] = []
    for i in range(1, len(COLOURS) + 1):
        b = nz[min(len(nz) - 1, math.ceil(i * len(nz) / len(COLOURS)) - 1)]
        if not out or b > out[-1]:
            out.append(b)
    return out


def colour(value: int, bounds: list[int]) -> str:
    """The fill of a cell with ``value`` reports."""
    if value <= 0 or not bounds:
        return EMPTY
    i = next((k for k, b in enumerate(bounds) if value <= b), len(bounds) - 1)
    if len(bounds) == 1:
        return COLOURS[-1]
    return COLOURS[round(i * (len(COLOURS) - 1) / (len(bounds) - 1))]


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    return []


def map_svg(cells: list[dict], legend_title: str, none_word: str, width: float = 640, height: float = 420) -> str:
    """An SVG map of ``cells`` (GeoJSON geometries, ``reported``) with a legend."""
    rings = [(c, _rings(c["geometry"])) for c in cells]
    xs = [p[0] for _, rs in rings for r in rs for p in r]
    ys = [p[1] for _, rs in rings for r in rs for p in r]
    if not xs:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40"><text x="4" y="20">' \
               f'{escape(none_word)}</text></svg>'
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    kx = math.cos(math.radians((y0 + y1) / 2))  # equirectangular at the middle latitude
    map_w = width - 130  # the legend takes the rest
    scale = min(map_w / max((x1 - x0) * kx, 1e-9), height / max(y1 - y0, 1e-9))

    def pt(p: list[float]) -> str:
        return f"{(p[0] - x0) * kx * scale:.1f},{(y1 - p[1]) * scale:.1f}"

    bounds = breaks([c["reported"] for c in cells])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10">']
    for c, rs in rings:
        d = " ".join("M" + " L".join(pt(p) for p in r) + " Z" for r in rs)
        parts.append(f'<path d="{d}" fill="{colour(c["reported"], bounds)}" stroke="#777" stroke-width="0.4">'
                     f'<title>{escape(c["name"])} {int(c["reported"])}</title></path>')
    lx = map_w + 14
    parts.append(f'<text x="{lx}" y="14" font-weight="bold">{escape(legend_title)}</text>')
    lows = [1] + [b + 1 for b in bounds[:-1]] if bounds else []
    entries = [(EMPTY, "0")] + [(colour(b, bounds), f"{lo}–{b}" if lo < b else f"{b}")
                                for lo, b in zip(lows, bounds, strict=True)]
    for i, (fill, label) in enumerate(entries):
        y = 26 + i * 18
        parts.append(f'<rect x="{lx}" y="{y}" width="16" height="12" fill="{fill}" stroke="#777" stroke-width="0.4"/>')
        parts.append(f'<text x="{lx + 22}" y="{y + 10}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def nice_step(raw: float) -> int:
    """A whole tick step of 1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10 ** max(0, math.floor(math.log10(max(raw, 1))))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def trend_svg(trend: list[dict], labels: dict[str, str], width: float = 640, height: float = 220) -> str:
    """Bars of reports per day and a line of solutions, with a y scale and a few dates."""
    left, bottom, top, right = 40, 28, 22, 10
    w, h = width - left - right, height - bottom - top
    n = max(len(trend), 1)
    tick = nice_step(max([max(t["reported"], t["solved"]) for t in trend] + [1]) / 4)
    top_v = tick * 4
    bw = w / n

    def y(v: float) -> float:
        return top + h - h * v / top_v

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="9">']
    for i in range(5):
        v = top_v * i / 4
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end">{v:g}</text>')
    for i, t in enumerate(trend):
        x = left + i * bw
        parts.append(f'<rect x="{x + bw * 0.15:.1f}" y="{y(t["reported"]):.1f}" width="{bw * 0.7:.1f}" '
                     f'height="{top + h - y(t["reported"]):.1f}" fill="#6baed6"/>')
        if n <= 8 or i % max(1, n // 8) == 0:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{top + h + 12}" text-anchor="middle">'
                         f'{escape(t["day"].strftime("%m-%d"))}</text>')
    if trend:
        line = " ".join(f"{left + (i + 0.5) * bw:.1f},{y(t['solved']):.1f}" for i, t in enumerate(trend))
        parts.append(f'<polyline points="{line}" fill="none" stroke="#d94801" stroke-width="1.5"/>')
    parts.append(f'<rect x="{left}" y="4" width="10" height="8" fill="#6baed6"/>'
                 f'<text x="{left + 14}" y="12">{escape(labels["reported"])}</text>'
                 f'<line x1="{left + 110}" x2="{left + 124}" y1="8" y2="8" stroke="#d94801" stroke-width="1.5"/>'
                 f'<text x="{left + 128}" y="12">{escape(labels["solved"])}</text>')
    parts.append("</svg>")
    return "".join(parts)
