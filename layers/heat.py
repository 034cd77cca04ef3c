"""Aggregated incident heat per level-4 cell; counts of 1–4 are suppressed for most roles."""
from __future__ import annotations

from layers.base import Field, Layer

HEAT_CELLS = Layer("heat_cells", "事件热力网格", "Incident heat cells", "layer_heat_cells", "MultiPolygon", (
    Field("cell_code", "网格代码", "cell_code"),
    Field("name", "名称", "name"),
    Field("reports", "事件数", "reports", "int", small_count=True),
    Field("open", "未办结", "open", "int", small_count=True),
    Field("overdue", "超期", "overdue", "int", small_count=True),
), filters=frozenset({"since", "until", "categories", "unit"}))

LAYERS = (HEAT_CELLS,)
