"""The dashboard's words (from the gettext catalogues in ``i18n/``) and its colours."""
from __future__ import annotations

from typing import Any

from i18n import gettext, normalize, words

__all__ = ["CLASS_COLORS", "FACILITY_COLORS", "WORKER_COLOR", "gettext", "normalize", "t"]

# Every point on the map has its own colour, far apart (CIE76 ΔE ≥ 25: tests/test_mapwall_units.py).
CLASS_COLORS = {"new": "#f72585", "in_hand": "#ffd166", "overdue": "#ff0000", "solved": "#57cc99",
                "rejected": "#8d99ae"}
FACILITY_COLORS = {"governance_centre": "#9d4edd", "police_station": "#4895ef", "school": "#ff9f1c",
                   "clinic": "#ffffff", "mediation_station": "#b08968", "department_base": "#c5f277"}
WORKER_COLOR = "#4cc9f0"


def t(lang: str | None) -> dict[str | int, Any]:
    """The word table for ``lang`` (Chinese unless English): ``t(lang)["states"]["new"]``."""
    return words(normalize(lang))
