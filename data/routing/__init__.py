"""Routing over the road graph with pgRouting in the same database: routes to incident sites,
dispatch suggestions, service-reach isochrones and coverage gaps.

``route``: one route between two ends snapped mid-edge; ``reach``: isochrones, coverage and the
one-more-station suggestion; ``turns``: the Chinese turn list (pure). Errors are the incident
module's domain errors (``api`` maps them to HTTP), plus ``Unreachable`` for disconnected ends.
"""
from __future__ import annotations

from data.incidents import IncidentError, Invalid, NotFound

# Off-road speed (km/h) for the leg between a point and its road, and for the margin around
# reached roads in isochrones: walking pace. A circle should promise only what a responder on
# foot can keep; driving over grassland is faster but not everywhere (fences, gullies, dunes).
OFFROAD_KMH = 5.0
MAX_SNAP_M = 20_000.0  # farther than this from any road is "no road here", not a route


class Unreachable(IncidentError):
    """The two ends lie on road network pieces that do not connect."""

    status, code = 422, "unreachable"


__all__ = ["OFFROAD_KMH", "MAX_SNAP_M", "Unreachable", "Invalid", "NotFound", "IncidentError"]
