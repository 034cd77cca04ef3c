-- Choropleth values per level-4 cell under the scope: reports per 1,000 residents in the range,
-- overdue now, and the share solved inside the grid.
WITH rep AS (
    SELECT unit_code AS cell_code, sum(n)::bigint AS n, sum(solved_4)::bigint AS s4,
           sum(solved_4 + solved_3 + solved_2 + solved_1)::bigint AS solved
    FROM rollup_span(%(scope)s, 4, %(since)s, %(until)s, %(categories)s::text[])
    GROUP BY 1
), live AS (
    SELECT cell_code, count(*) AS overdue FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
      AND incident_is_overdue(state, due_at, %(now)s)
    GROUP BY 1
)
SELECT p.cell_code, p.population, coalesce(r.n, 0), coalesce(r.s4, 0), coalesce(r.solved, 0), coalesce(l.overdue, 0)
FROM cell_population p LEFT JOIN rep r USING (cell_code) LEFT JOIN live l USING (cell_code)
WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%'
