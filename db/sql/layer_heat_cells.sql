-- Incident heat per level-4 cell: reports in the local-day range (roll-up), open and overdue now.
-- Counts of 1–4 are suppressed by the registry (small counts can point at a household).
WITH reported AS (
    SELECT r.unit_code AS cell_code, sum(r.n) AS n
    FROM (SELECT timezone AS name FROM region WHERE region_code = %(region_code)s) tz,
         rollup_span(%(scope)s, 4, local_day(%(since)s, tz.name), local_day(%(until)s, tz.name),
                     %(categories)s::text[]) r
    GROUP BY r.unit_code
), open AS (
    SELECT i.cell_code, count(*) AS open,
           count(*) FILTER (WHERE incident_is_overdue(i.state, i.due_at, %(now)s)) AS overdue
    FROM incident i
    WHERE i.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%'
      AND incident_is_open(i.state)
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
    GROUP BY i.cell_code
)
SELECT c.code AS fid, c.geom, c.code AS cell_code, c.name,
       coalesce(r.n, 0)::int AS reports, coalesce(o.open, 0)::int AS open, coalesce(o.overdue, 0)::int AS overdue
FROM grid_unit c
LEFT JOIN reported r ON r.cell_code = c.code
LEFT JOIN open o ON o.cell_code = c.code
WHERE c.region_code = %(region_code)s AND c.level = 4 AND c.code LIKE %(scope)s || '%%'
