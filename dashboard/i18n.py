"""The dashboard's words (from the gettext catalogues in ``i18n/``) and its colours."""
from __future__ import annotations

from typing import Any

from i18n import gettext, normalize, words

__all__ = ["CLASS_COLORS", "FACILITY_COLORS", "gettext", "normalize", "t"]

CLASS_COLORS = {"new": "#ff4d6d", "in_hand": "#ffd166", "overdue": "#ff0000", "solved": "#5ad1a4",
                "rejected": "#8d99ae"}
FACILITY_COLORS = {"governance_centre": "#ef476f", "police_station": "#118ab2", "school": "#06d6a0",
                   "clinic": "#ffffff", "mediation_station": "#ffd166", "department_base": "#8d99ae"}


def t(lang: str | None) -> dict[str | int, Any]:
    """The word table for ``lang`` (Chinese unless English): ``t(lang)["states"]["new"]``."""
    return words(normalize(lang))
