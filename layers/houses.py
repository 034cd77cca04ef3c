"""The houses of the registry (实有房屋) as a layer: the map, the exports and the OGC API.

Like incidents, the map reads it as clusters per cell below ``POINTS_ZOOM`` and as points in the
viewport from it on; from ``FOOTPRINT_ZOOM`` a house with a footprint is drawn as its polygon
(the others stay points). Exports and the OGC API carry the footprint as WKT text beside the
point. An address is personal (it says where a family lives); the numbers of households and
residents in one house are people counts, suppressed when small for the roles that do not see
them (``domain.policy``).
"""
from __future__ import annotations

from layers.base import Field, Layer, Variant

POINTS_ZOOM = 13
FOOTPRINT_ZOOM = 16
MAX_POINTS = 2000

CLUSTERS = Variant("clusters", "layer_house_cells", (
    Field("cluster", "聚合", "cluster", "bool"),
    Field("cell_code", "网格代码", "cell_code"),
    Field("name", "名称", "name"),
    Field("count", "房屋数", "count", "int"),
), max_zoom=POINTS_ZOOM)
POINTS = Variant("points", "layer_house_points", (
    Field("id", "编号", "id"),
    Field("use", "用途", "use"),
), min_zoom=POINTS_ZOOM, max_zoom=FOOTPRINT_ZOOM, needs_bbox=True, params={"limit": MAX_POINTS})
FOOTPRINTS = Variant("footprints", "layer_house_footprints", (
    Field("id", "编号", "id"),
    Field("use", "用途", "use"),
    Field("outline", "轮廓", "outline", "bool"),
), min_zoom=FOOTPRINT_ZOOM, needs_bbox=True, params={"limit": MAX_POINTS})

HOUSES = Layer("houses", "实有房屋", "Houses", "layer_houses", "Point", (
    Field("id", "编号", "id"),
    Field("use", "用途", "use"),
    Field("address", "地址", "address", personal="hide"),
    Field("floors", "层数", "floors", "int"),
    Field("cell_code", "所属网格", "cell_code"),
    Field("households", "户数", "households", "int", small_count=True),
    Field("residents", "实有人口", "residents", "int", small_count=True),
    Field("synthetic", "合成数据", "synthetic", "bool"),
    Field("footprint", "房屋轮廓", "footprint", map=False),
), variants=(CLUSTERS, POINTS, FOOTPRINTS))

LAYERS = (HOUSES,)
