"""Routing's layers: cached service-reach isochrones (db/migrations/0006_routing.sql)."""
from __future__ import annotations

from layers.base import Field, Layer

ISOCHRONES = Layer("isochrones", "服务可达范围", "Service reach isochrones", "layer_isochrones", "MultiPolygon", (
    Field("kind", "设施类型", "kind"),
    Field("minutes", "分钟", "minutes", "int"),
    Field("facilities", "设施数", "facilities", "int"),
    Field("built_at", "计算时间", "built_at", "datetime"),
))

LAYERS = (ISOCHRONES,)
