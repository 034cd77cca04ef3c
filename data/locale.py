"""Words that come from the database: the county's name and each user's language choice."""
from __future__ import annotations

from db.core import pooled, sql, writer

LANGS = ("zh", "en")


def region_names(dsn: str, region_code: str) -> tuple[str, str]:
    """(Chinese, English) name of the region, from its row; the code itself when there is none."""
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("region_names"), {"region_code": region_code})
        row = cur.fetchone()
    return (row[0], row[1]) if row else (region_code, region_code)


def region_name(dsn: str, region_code: str, lang: str) -> str:
    """The region's name in ``lang`` ('en' or Chinese)."""
    zh, en = region_names(dsn, region_code)
    return en if lang == "en" else zh


def user_lang(dsn: str, user_id: int | None) -> str | None:
    """The language the user chose ('zh' or 'en'), or None when they never chose (or are no user)."""
    if user_id is None:
        return None
    with pooled(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql("user_lang_get"), {"user_id": user_id})
        row = cur.fetchone()
    return row[0] if row else None


def set_user_lang(dsn: str, user_id: int | None, lang: str) -> None:
    """Remember ``lang`` for the user (ignored for callers without an account, e.g. the CLI)."""
    if user_id is None or lang not in LANGS:
        return
    with writer(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute(sql("user_lang_set"), {"user_id": user_id, "lang": lang})
        conn.commit()
