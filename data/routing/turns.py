"""A short Chinese turn list from a path's pieces (pure: no I/O).

Consecutive pieces on the same road are one step; the turn between steps comes from the bearing
of the last stretch of one road and the first stretch of the next.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

UNNAMED = "无名道路"
MIN_BEARING_M = 15.0  # stretches shorter than this at a junction give a noisy bearing


@dataclass
class Piece:
    """One piece of a path in driving order: its road, metres, seconds and lon/lat coordinates."""

    name: str | None
    road_class: str
    length_m: float
    seconds: float
    coords: list[tuple[float, float]]


def distance_text(m: float) -> str:
    """'850米' under a kilometre, else '12.3公里'."""
    if m < 1000:
        return f"{max(10, int(round(m / 10.0)) * 10)}米"
    return f"{m / 1000:.1f}公里"


def _xy(coords, lat0):
    k = math.cos(math.radians(lat0)) * 111_320.0
    return [(x * k, y * 110_574.0) for x, y in coords]


def _bearing(coords, from_end: bool) -> float | None:
    """Compass bearing (degrees) of the first (or last) stretch at least MIN_BEARING_M long."""
    if len(coords) < 2:
        return None
    pts = _xy(coords, coords[0][1])
    if from_end:
        pts = pts[::-1]
    x0, y0 = pts[0]
    for x, y in pts[1:]:
        if math.hypot(x - x0, y - y0) >= MIN_BEARING_M:
            b = math.degrees(math.atan2(x - x0, y - y0)) % 360
            return (b + 180) % 360 if from_end else b
    x, y = pts[-1]
    if (x, y) == (x0, y0):
        return None
    b = math.degrees(math.atan2(x - x0, y - y0)) % 360
    return (b + 180) % 360 if from_end else b


def turn_word(before: float | None, after: float | None) -> str:
    """直行 / 向左前方 / 左转 / 掉头 … from the bearings before and after a junction."""
    if before is None or after is None:
        return "继续"
    delta = (after - before + 540) % 360 - 180  # > 0: clockwise, a right turn
    a = abs(delta)
    side = "右" if delta > 0 else "左"
    if a < 20:
        return "直行"
    if a < 60:
        return f"向{side}前方"
    if a < 150:
        return f"{side}转"
    return "掉头"


def steps(pieces: list[Piece]) -> list[dict]:
    """Pieces grouped by road: each with road name, class, metres, seconds and its bearings."""
    out: list[dict] = []
    for p in pieces:
        name = p.name or UNNAMED
        if out and out[-1]["road"] == name:
            s = out[-1]
            s["length_m"] += p.length_m
            s["travel_s"] += p.seconds
            s["coords"].extend(p.coords[1:] if s["coords"] and p.coords else p.coords)
        else:
            out.append({"road": name, "road_class": p.road_class, "length_m": p.length_m,
                        "travel_s": p.seconds, "coords": list(p.coords)})
    return [s for s in out if s["length_m"] > 0.5 or len(out) == 1]


def instructions(pieces: list[Piece], start_label: str = "起点", end_label: str = "终点",
                 start_offroad_m: float = 0.0, end_offroad_m: float = 0.0,
                 offroad_min_m: float = 30.0) -> list[dict]:
    """The turn list: [{"text", "road", "turn", "length_m", "travel_s"}], first and last included."""
    groups = steps(pieces)
    out = []
    if start_offroad_m >= offroad_min_m and groups:
        out.append({"text": f"从{start_label}出发，离开道路前行约{distance_text(start_offroad_m)}"
                            f"到达{groups[0]['road']}",
                    "road": None, "turn": "出发", "length_m": round(start_offroad_m, 1), "travel_s": None})
    prev_bearing = None
    for i, g in enumerate(groups):
        dist = distance_text(g["length_m"])
        if i == 0:
            lead = "沿" if out else f"从{start_label}出发，沿"
            text, turn = f"{lead}{g['road']}行驶{dist}", "出发"
        else:
            turn = turn_word(prev_bearing, _bearing(g["coords"], from_end=False))
            verb = "继续进入" if turn == "继续" else f"{turn}进入"
            text = f"{verb}{g['road']}，行驶{dist}"
        out.append({"text": text, "road": g["road"], "turn": turn, "length_m": round(g["length_m"], 1),
                    "travel_s": round(g["travel_s"], 1)})
        prev_bearing = _bearing(g["coords"], from_end=True)
    if end_offroad_m >= offroad_min_m:
        out.append({"text": f"离开道路，前行约{distance_text(end_offroad_m)}到达{end_label}", "road": None,
                    "turn": "到达", "length_m": round(end_offroad_m, 1), "travel_s": None})
    else:
        out.append({"text": f"到达{end_label}", "road": None, "turn": "到达", "length_m": 0.0, "travel_s": 0.0})
    return out
