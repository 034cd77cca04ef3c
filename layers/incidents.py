"""The incidents layer: one definition for the map, the exports and the OGC API.

The map reads it in two variants, chosen by zoom: clusters per level-4 cell below ``POINTS_ZOOM``
and points (in the viewport, capped at ``MAX_POINTS``) from it on. Both are options of this layer
(``Layer.variants``), composed by ``layers.base.select`` like the layer itself, so the row rule
and the field masks are the same on every path.

The description is free text typed in the field and often names residents, so it is personal
(``domain.policy``): the roles that handle the case read it, command and analysis do not.
"""
from __future__ import annotations

from domain import phase
from layers.base import Field, Layer, Variant

# The phase is the database's (0010_phase.sql, mirrored by domain/phase.py): "open" in a state
# filter means the open phase, as on /api/v1; the status field is incident_phase().
OPEN = phase.OPEN_STATES
STATE_WORDS = phase.FILTER_WORDS  # what a state filter accepts
POINTS_ZOOM = 13       # from this zoom on, the map shows incidents as points
MAX_POINTS = 2000      # never more per response (dash-leaflet's limits are real)

CLUSTERS = Variant("clusters", "layer_incident_cells", (
    Field("cluster", "聚合", "cluster", "bool"),
    Field("cell_code", "网格代码", "cell_code"),
    Field("name", "名称", "name"),
    Field("count", "事件数", "count", "int"),
    Field("open", "未办结", "open", "int"),
    Field("overdue", "超期", "overdue", "int"),
), max_zoom=POINTS_ZOOM)
POINTS = Variant("points", "layer_incident_points", (
    Field("id", "编号", "id"),
    Field("category", "类别代码", "category"),
    Field("class", "图例类别", "class"),
), min_zoom=POINTS_ZOOM, needs_bbox=True, params={"limit": MAX_POINTS})

INCIDENTS = Layer("incidents", "事件", "Incidents", "layer_incidents", "Point", (
    Field("id", "编号", "id"),
    Field("category", "类别代码", "category"),
    Field("category_name", "类别", "cat_name"),
    Field("state", "状态", "state", values={"open": OPEN}),
    Field("status", "办结情况", "status"),
    Field("handling_level", "处置层级", "level", "int"),
    Field("cell_code", "网格代码", "cell_code"),
    Field("department", "责任部门", "dept"),
    Field("observed_at", "发现时间", "observed", "datetime"),
    Field("received_at", "上报时间", "received", "datetime"),
    Field("due_at", "办理时限", "due", "datetime"),
    Field("resolved_at", "解决时间", "resolved", "datetime"),
    Field("solved_level", "解决层级", "solved_lvl", "int"),
    Field("overdue", "是否超期", "overdue", "bool"),
    Field("source", "来源", "source"),
    Field("reporter", "上报网格员", "reporter", personal="hide"),
    Field("description", "描述", "descr", personal="hide"),
), filters=frozenset({"since", "until", "categories", "states", "unit"}), time_key="received_at",
    variants=(CLUSTERS, POINTS), key="pk", key_type="uuid")

LAYERS = (INCIDENTS,)
