-- The incidents layer's "clusters" map variant (low zoom): one feature per level-4 cell under the
-- scope, at a point inside the cell, with the reports received in [since, until) (the roll-up, by
-- the region's local day, read through rollup_span (0035): whole months from month rows; for department staff their department's incidents, counted directly)
-- and the open and overdue incidents now. Cells with nothing to show are left out.
WITH cells AS (
    SELECT code, name, geom FROM grid_unit
    WHERE region_code = %(region_code)s AND level = 4 AND code LIKE %(scope)s || '%%'
), tz AS (
    SELECT timezone AS name FROM region WHERE region_code = %(region_code)s
), reported AS (
    SELECT r.unit_code AS cell_code, sum(r.n) AS n
    FROM tz, rollup_span(%(scope)s, 4, local_day(%(since)s, tz.name), local_day(%(until)s, tz.name),
                         %(categories)s::text[]) r
    WHERE %(department)s::text IS NULL
    GROUP BY r.unit_code
    UNION ALL
    SELECT i.cell_code, count(*) FROM incident i
    WHERE %(department)s::text IS NOT NULL AND i.department_code = %(department)s
      AND i.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%'
      AND (%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
    GROUP BY i.cell_code
), open AS (
    SELECT cell_code, count(*) AS open,
           count(*) FILTER (WHERE incident_is_overdue(state, due_at, %(now)s)) AS overdue
    FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%' AND incident_is_open(state)
      AND (%(department)s::text IS NULL OR department_code = %(department)s)
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
      AND (%(handling_level)s::smallint IS NULL OR handling_level = %(handling_level)s)
    GROUP BY cell_code
)
SELECT c.code AS fid, ST_PointOnSurface(c.geom) AS geom, true AS cluster, c.code AS cell_code, c.name,
       coalesce(r.n, 0)::int AS count, coalesce(o.open, 0)::int AS open, coalesce(o.overdue, 0)::int AS overdue
FROM cells c LEFT JOIN reported r ON r.cell_code = c.code LEFT JOIN open o ON o.cell_code = c.code
WHERE coalesce(r.n, 0) + coalesce(o.open, 0) > 0
