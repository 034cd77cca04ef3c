"""Facilities (governance centres, police, schools, clinics, mediation rooms) and roads."""
from __future__ import annotations

from layers.base import Field, Layer

FACILITIES = Layer("facilities", "服务设施", "Facilities", "layer_facilities", "Point", (
    Field("kind", "类型", "kind"),
    Field("name", "名称", "name"),
    Field("name_en", "英文名称", "name_en"),
    Field("unit_code", "所属网格", "unit_code"),
))

ROADS = Layer("roads", "道路", "Roads", "layer_roads", "LineString", (
    Field("id", "编号", "id", "int"),
    Field("road_class", "道路等级", "road_class"),
    Field("name", "名称", "name"),
    Field("speed_kmh", "限速_公里每时", "speed_kmh", "float"),
    Field("length_m", "长度_米", "length_m", "float"),
))

LAYERS = (FACILITIES, ROADS)
