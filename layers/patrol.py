"""Patrol coverage: the cells a grid worker's GPS fix fell in over the last days (the map's patrol
layer, exports, OGC). It tells where workers went, so it belongs to the live-position class of
``domain.policy`` (no rows for a read-only wall)."""
from __future__ import annotations

from domain.policy import POSITION
from layers.base import Field, Layer

PATROL_DAYS = 7

PATROL_COVERAGE = Layer("patrol_coverage", "巡查覆盖", "Patrol coverage", "layer_patrol_coverage", "MultiPolygon", (
    Field("cell_code", "网格代码", "cell_code"),
    Field("name", "名称", "name"),
    Field("patrolled", "已巡查", "patrolled", "bool"),
    Field("days", "统计天数", "days", "int"),
), params={"patrol_days": PATROL_DAYS}, row_class=POSITION, map_simplify=0.0001)

LAYERS = (PATROL_COVERAGE,)
