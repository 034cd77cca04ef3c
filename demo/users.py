"""Demo accounts: one per role over the whole banner, a town leader, and a real grid worker.

The passwords are public (they are printed by ``make demo``): the demo is for trying the
system, never for real data. Re-running (``load_demo(..., replace=True)``) resets them.
"""
from __future__ import annotations

from data.users import hash_password
from db.core import sql

TOWN_LEADER_UNIT = "150623002"  # 上海庙镇 Shanghaimiao Town
DEMO_DEPARTMENT_KIND = "public_security"

# (username, password, role, display name); the jurisdiction is filled in by create_demo_users.
DEMO_USERS = [
    ("demo-admin", "onemap-admin", "admin", "系统管理员"),
    ("demo-dispatcher", "onemap-dispatcher", "dispatcher", "指挥中心调度员"),
    ("demo-leader", "onemap-leader", "leader", "旗领导"),
    ("demo-analyst", "onemap-analyst", "analyst", "数据分析员"),
    ("demo-department", "onemap-department", "department", "公安局工作人员"),
    ("demo-worker", "onemap-worker", "worker", "网格员"),
    ("demo-leader-shanghaimiao", "onemap-leader", "leader", "上海庙镇领导"),
]


def create_demo_users(cur, region_code: str) -> list[tuple[str, str, str, str]]:
    """Create (or reset) the demo accounts in ``region_code``; return (username, password, role, unit)."""
    cur.execute(sql("user_demo_worker"), {"region_code": region_code})
    worker = cur.fetchone()
    if worker is None:
        raise RuntimeError(f"region {region_code} has no grid workers to link the demo worker to")
    worker_id, _code, worker_unit, _name = worker
    out = []
    for username, password, role, display in DEMO_USERS:
        unit = region_code
        if username.endswith("shanghaimiao"):
            unit = TOWN_LEADER_UNIT
        elif role == "worker":
            unit = worker_unit  # a grid worker's jurisdiction is the worker's own cell
        cur.execute(sql("user_demo_upsert"), {
            "region_code": region_code, "username": username, "display_name": display, "role": role,
            "unit_code": unit,
            "department_code": f"{region_code}-{DEMO_DEPARTMENT_KIND}" if role == "department" else None,
            "worker_id": worker_id if role == "worker" else None,
            "password_hash": hash_password(password)})
        if cur.fetchone() is None:
            raise RuntimeError(f"demo user {username!r} already exists in another region")
        out.append((username, password, role, unit))
    return out


def login_hint() -> str:
    """How to log in to the demo, for ``make demo`` to print."""
    rows = [f"  {u:<26} {p:<20} {r}" for u, p, r, _ in DEMO_USERS]
    return "Demo logins (username, password, role):\n" + "\n".join(rows)
