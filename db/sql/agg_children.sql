-- Per child unit of the selected unit: people, households, reports in the range (the children's
-- own roll-up rows, rollup_span 0035), open, overdue.
WITH kids AS (
    SELECT code, name, name_en FROM grid_unit
    WHERE region_code = %(region_code)s AND parent_code = %(unit)s
), pop AS (
    SELECT left(cell_code, %(child_len)s) AS code, sum(population) AS population, sum(households) AS households
    FROM cell_population WHERE cell_code LIKE %(unit)s || '%%' GROUP BY 1
), rep AS (
    SELECT unit_code AS code, sum(n) AS reported, sum(solved_4) AS solved_in_grid,
           sum(solved_4 + solved_3 + solved_2 + solved_1) AS solved
    FROM rollup_span(%(unit)s, (%(child_len)s - 3) / 3, %(since)s, %(until)s, %(categories)s::text[])
    GROUP BY 1
), live AS (
    SELECT left(cell_code, %(child_len)s) AS code, count(*) AS open,
           count(*) FILTER (WHERE incident_is_overdue(state, due_at, %(now)s)) AS overdue
    FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(unit)s || '%%'
      AND incident_is_open(state)
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
    GROUP BY 1
)
SELECT k.code, k.name, k.name_en, coalesce(p.population, 0), coalesce(p.households, 0),
       coalesce(r.reported, 0), coalesce(r.solved_in_grid, 0), coalesce(r.solved, 0),
       coalesce(l.open, 0), coalesce(l.overdue, 0)
FROM kids k LEFT JOIN pop p USING (code) LEFT JOIN rep r USING (code) LEFT JOIN live l USING (code)
ORDER BY k.code
