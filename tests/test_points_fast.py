"""The map's points variant (db/sql/layer_incident_points.sql: two top-N reads, open first) answers
exactly what the one-query version it replaced answered (kept here as the reference): the same
incidents in the same order and classes, for wide and narrow boxes, caps below and above the open
count, a category filter, a department and a grid worker's own reports outside their cell."""
from __future__ import annotations

from datetime import timedelta

import pytest

from db.core import connect, sql

from conftest import DEMO_NOW

REFERENCE = """
SELECT i.id::text AS fid, i.geom, i.id::text AS id, i.category_code AS category,
       CASE WHEN i.state = 'rejected' THEN 'rejected'
            WHEN incident_is_overdue(i.state, i.due_at, %(now)s) THEN 'overdue'
            WHEN NOT incident_is_open(i.state) THEN 'solved'
            WHEN i.state = 'new' THEN 'new'
            ELSE 'in_hand' END AS class
FROM incident i
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
  AND i.geom && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)
  AND (incident_is_open(i.state)
       OR ((%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
           AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)))
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
  AND (%(handling_level)s::smallint IS NULL OR i.handling_level = %(handling_level)s)
ORDER BY NOT incident_is_open(i.state), i.received_at DESC, i.id
LIMIT %(limit)s
"""


def _ids(cur, text: str, params: dict) -> list[tuple]:
    cur.execute(text, params)
    return [(r[2], r[4]) for r in cur.fetchall()]


@pytest.mark.parametrize("case", ["county", "seat", "small", "category", "department", "worker"])
@pytest.mark.parametrize("limit", [5, 200, 5000])
def test_points_match_the_single_query(demo_dsn, case, limit):
    conn = connect(demo_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE incident_is_open(state)), min(department_code), "
                        "min(reporter_id) FROM incident")
            n_open, department, reporter = cur.fetchone()
            assert n_open > 5  # the cap of 5 falls inside the open ones, 200 and 5000 beyond them
            params = {"region_code": "150623", "scope": "150623", "department": None, "reporter_id": None,
                      "bbox_w": 106.0, "bbox_s": 37.0, "bbox_e": 109.0, "bbox_n": 39.5, "now": DEMO_NOW,
                      "since": DEMO_NOW - timedelta(days=90), "until": DEMO_NOW, "categories": None,
                      "handling_level": None, "limit": limit}
            if case == "seat":
                params.update(bbox_w=107.42, bbox_s=38.14, bbox_e=107.53, bbox_n=38.22)
            elif case == "small":
                params.update(bbox_w=107.470, bbox_s=38.172, bbox_e=107.480, bbox_n=38.182)
            elif case == "category":
                params.update(categories=["public_order", "environment"])
            elif case == "department":
                params.update(department=department)
            elif case == "worker":  # a worker's cell, and their own reports wherever they are
                params.update(scope="150623001001001", reporter_id=reporter)
            want = _ids(cur, REFERENCE, params)
            got = _ids(cur, sql("layer_incident_points"), params)
        assert got == want and (case == "small" or want)
    finally:
        conn.rollback()
        conn.close()
