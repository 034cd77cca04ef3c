"""Incidents as points, filterable by time, category, state and unit.

The description is free text typed in the field and often names residents, so it is personal:
only the roles that may see people get it (PIPL's minimum-necessary principle).
"""
from __future__ import annotations

from domain import phase
from layers.base import Field, Layer

# The phase is the database's (0010_phase.sql, mirrored by domain/phase.py): "open" in a state
# filter means the open phase, as on /api/v1; the status field is incident_phase().
OPEN = phase.OPEN_STATES
STATE_WORDS = phase.FILTER_WORDS  # what a state filter accepts

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
    Field("reporter", "上报网格员", "reporter"),
    Field("description", "描述", "descr", personal="hide"),
), filters=frozenset({"since", "until", "categories", "states", "unit"}), time_key="received_at")

LAYERS = (INCIDENTS,)
