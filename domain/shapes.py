"""Registry shapes sent by clients: a house's footprint (a polygon, GeoJSON or WKT) and a
protected line (a line or lines, GeoJSON or WKT), checked for form here (pure: no I/O) and
written back as WKT for the database, which checks validity and place (``data.registry``).
"""
from __future__ import annotations

import math
import re
from typing import Any

MAX_VERTICES = 500     # a house outline needs far fewer
MAX_LINE_VERTICES = 1400  # a protected line's WKT still fits one Excel cell (32 767 characters)
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"^\s*({NUMBER})\s+({NUMBER})\s*$")


def _position(p: Any) -> tuple[float, float]:
    if (not isinstance(p, (list, tuple)) or len(p) < 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p[:2])):
        raise ValueError("each position is [lon, lat] (numbers)")
    lon, lat = float(p[0]), float(p[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("positions are WGS84 degrees: lon −180…180, lat −90…90")
    return lon, lat


def _ring(points: Any) -> list[tuple[float, float]]:
    if not isinstance(points, list):
        raise ValueError("a ring is a list of positions")
    ring = [_position(p) for p in points]
    if len(ring) < 4:
        raise ValueError("a ring needs at least 4 positions (the first repeated at the end)")
    if ring[0] != ring[-1]:
        raise ValueError("a ring must be closed: its last position equals its first")
    return ring


def _wkt_ring(ring: list[tuple[float, float]]) -> str:
    return "(" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in ring) + ")"


def _count(parts: list[list[tuple[float, float]]], most: int = MAX_VERTICES) -> None:
    if sum(len(p) for p in parts) > most:
        raise ValueError(f"at most {most} positions")


def polygon_wkt(value: Any) -> str:
    """A footprint as WKT ``POLYGON(...)`` from GeoJSON (an object of type Polygon) or WKT text;
    ``ValueError`` says what is wrong with its form (validity is the database's to check)."""
    if isinstance(value, str):
        rings = _parse_wkt(value, "POLYGON")
    elif isinstance(value, dict):
        if value.get("type") != "Polygon":
            raise ValueError("a GeoJSON geometry of type Polygon")
        coords = value.get("coordinates")
        if not isinstance(coords, list) or not coords:
            raise ValueError("a Polygon's coordinates are a list of rings")
        rings = [_ring(r) for r in coords]
    else:
        raise ValueError("a GeoJSON Polygon (API) or WKT POLYGON((lon lat, …)) text (Excel)")
    _count(rings)
    return "POLYGON(" + ", ".join(_wkt_ring(r) for r in rings) + ")"


def lines_wkt(value: Any) -> str:
    """A protected line as WKT ``MULTILINESTRING(...)`` from GeoJSON LineString/MultiLineString or
    WKT LINESTRING/MULTILINESTRING text; ``ValueError`` on a wrong form."""
    if isinstance(value, str):
        text = value.strip().upper()
        parts = _parse_wkt(value, "MULTILINESTRING" if text.startswith("MULTI") else "LINESTRING")
    elif isinstance(value, dict) and value.get("type") in ("LineString", "MultiLineString"):
        coords = value.get("coordinates")
        raw = [coords] if value["type"] == "LineString" else coords
        if not isinstance(raw, list) or not raw or not all(isinstance(p, list) for p in raw):
            raise ValueError("a line's coordinates are a list of positions")
        parts = [[_position(p) for p in part] for part in raw]
    else:
        raise ValueError("a GeoJSON LineString or MultiLineString, or WKT LINESTRING(lon lat, …)")
    if any(len(p) < 2 for p in parts):
        raise ValueError("a line needs at least 2 positions")
    _count(parts, MAX_LINE_VERTICES)
    return "MULTILINESTRING(" + ", ".join(_wkt_ring(p) for p in parts) + ")"


def _parse_wkt(text: str, kind: str) -> list[list[tuple[float, float]]]:
    body = text.strip()
    if len(body) > 40 * MAX_LINE_VERTICES:
        raise ValueError("too long")
    m = re.match(rf"^{kind}\s*\((.*)\)$", body, re.IGNORECASE | re.DOTALL)
    if m is None or (kind == "LINESTRING" and body.upper().startswith("MULTI")):
        raise ValueError(f"WKT {kind}(…) in lon lat order")
    inner = m.group(1).strip()
    groups = [inner] if kind == "LINESTRING" else re.findall(r"\(([^()]*)\)", inner)
    if not groups or (kind != "LINESTRING" and re.sub(r"\([^()]*\)|[\s,]", "", inner)):
        raise ValueError(f"WKT {kind}: each part in parentheses, e.g. {kind}((lon lat, lon lat, …))")
    parts = []
    for g in groups:
        points = []
        for pair in g.split(","):
            pm = _PAIR.match(pair)
            if pm is None:
                raise ValueError(f"WKT {kind}: positions are 'lon lat' pairs separated by commas")
            points.append(_position([float(pm.group(1)), float(pm.group(2))]))
        parts.append(_ring(points) if kind == "POLYGON" else points)
    return parts
