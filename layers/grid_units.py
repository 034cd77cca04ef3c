"""Grid units of each level (banner, towns, villages, cells) with people and incident statistics."""
from __future__ import annotations

from layers.base import Field, Layer

FIELDS = (
    Field("code", "代码", "code"),
    Field("name", "名称", "name"),
    Field("name_en", "英文名称", "name_en"),
    Field("level", "层级", "level", "int"),
    Field("parent_code", "上级代码", "parent"),
    Field("synthetic", "合成数据", "synthetic", "bool"),
    Field("population", "人口", "population", "int", small_count=True),
    Field("households", "户数", "households", "int", small_count=True),
    Field("area_km2", "面积_平方公里", "area_km2", "float"),
    # computed from population: suppressed with it, or area × density would give the count back
    Field("density", "人口密度", "density", "float", derived_from="population"),
    # the map shows people only; incident statistics are for analysis (and cost a roll-up scan)
    Field("reports", "事件数", "reports", "int", small_count=True, map=False),
    Field("open", "未办结", "open", "int", small_count=True, map=False),
    Field("overdue", "超期", "overdue", "int", small_count=True, map=False),
    Field("in_grid_pct", "网格内解决率", "in_grid", "float", map=False, derived_from="reports"),
    Field("label_lon", "标注经度", "label_lon", "float", export=False),
    Field("label_lat", "标注纬度", "label_lat", "float", export=False),
)
FILTERS = frozenset({"since", "until", "categories", "unit"})

LAYERS = (
    Layer("banner", "旗界", "Banner boundary", "layer_grid_units", "MultiPolygon", FIELDS, FILTERS,
          {"level": 1}, map_simplify=0.0001),
    Layer("towns", "乡镇", "Towns", "layer_grid_units", "MultiPolygon", FIELDS, FILTERS,
          {"level": 2}, map_simplify=0.0001),
    Layer("villages", "嘎查村", "Villages", "layer_grid_units", "MultiPolygon", FIELDS, FILTERS,
          {"level": 3}, map_simplify=0.0001),
    Layer("cells", "网格", "Grid cells", "layer_grid_units", "MultiPolygon", FIELDS, FILTERS,
          {"level": 4}, map_simplify=0.0001),
)
