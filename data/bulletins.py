"""What a bulletin needs beyond ``data.stats`` (the indicators): the overdue list, the cells to
draw, and the register of generated bulletins (table ``bulletin``, 0025)."""
from __future__ import annotations

import json
from datetime import datetime

from db.core import dict_cursor, pooled, sql


def overdue(dsn: str, region_code: str, scope: str, now: datetime, limit: int = 100) -> list[dict]:
    """Open incidents under ``scope`` past their deadline at ``now``, most overdue first."""
    keys = ("id", "category", "category_name", "category_name_en", "cell_code", "cell_name", "cell_name_en",
            "state", "level", "received_at", "due_at")
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("bulletin_overdue"), {"region_code": region_code, "scope": scope, "now": now,
                                              "limit": limit})
        return [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]


def cells(dsn: str, region_code: str, scope: str) -> list[dict]:
    """The level-4 cells under ``scope`` with simplified GeoJSON geometries."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("bulletin_cells"), {"region_code": region_code, "scope": scope})
        return [{"code": c, "name": n, "name_en": ne, "geometry": json.loads(g)} for c, n, ne, g in cur.fetchall()]


def schedule_units(dsn: str, region_code: str) -> list[str]:
    """The units a scheduled run writes bulletins for (banner and towns)."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("bulletin_units"), {"region_code": region_code})
        return [r[0] for r in cur.fetchall()]


def record(conn, row: dict) -> None:
    """Register a generated bulletin (its file complete); commits."""
    with conn.cursor() as cur:
        cur.execute(sql("bulletin_insert"), row)
    conn.commit()


def listing(dsn: str, region_code: str, scope: str, unit: str | None = None, period: str | None = None,
            fmt: str | None = None, lang: str | None = None, limit: int = 50) -> list[dict]:
    """Kept bulletins of the units under ``scope``, newest first."""
    with pooled(dsn) as conn, dict_cursor(conn) as cur:
        cur.execute(sql("bulletin_list"), {"region_code": region_code, "scope": scope, "unit": unit,
                                           "period": period, "format": fmt, "lang": lang, "limit": limit})
        return cur.fetchall()


def get(dsn: str, region_code: str, scope: str, bulletin_id: str) -> dict | None:
    """One kept bulletin under ``scope``, or None."""
    with pooled(dsn) as conn, dict_cursor(conn) as cur:
        cur.execute(sql("bulletin_get"), {"region_code": region_code, "scope": scope, "id": bulletin_id})
        return cur.fetchone()
