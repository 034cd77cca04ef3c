"""Routing's layers: cached service-reach isochrones (db/migrations/0006_routing.sql) and the
coverage gaps they leave (the map's service circles and gaps, exports, OGC)."""
from __future__ import annotations

from data.routing.reach import GAP_SHARE, PASTORAL_MINUTES, TOWN_MINUTES
from layers.base import Field, Layer

ISOCHRONES = Layer("isochrones", "服务可达范围", "Service reach isochrones", "layer_isochrones", "MultiPolygon", (
    Field("kind", "设施类型", "kind"),
    Field("minutes", "分钟", "minutes", "int"),
    Field("facilities", "设施数", "facilities", "int"),
    Field("built_at", "计算时间", "built_at", "datetime"),
), map_simplify=0.0002)

# The promised circles and the gap threshold are data.routing.reach's; a ``kind`` property filter
# picks the facility kind (it is also the query's parameter).
COVERAGE_GAPS = Layer("coverage_gaps", "服务覆盖缺口", "Coverage gaps", "layer_coverage_gaps", "MultiPolygon", (
    Field("cell_code", "网格代码", "cell_code"),
    Field("name", "名称", "name"),
    Field("kind", "设施类型", "kind"),
    Field("minutes", "承诺分钟", "minutes", "int"),
    Field("residents", "常住人口", "residents", "int", small_count=True),
    Field("share", "覆盖比例", "share", "float"),
    Field("gap_population", "未覆盖人口", "gap_pop", "float", derived_from="residents"),
), params={"kind": "governance_centre", "town_minutes": TOWN_MINUTES, "pastoral_minutes": PASTORAL_MINUTES,
            "gap_share": GAP_SHARE},
    map_simplify=0.0002)

LAYERS = (ISOCHRONES, COVERAGE_GAPS)
