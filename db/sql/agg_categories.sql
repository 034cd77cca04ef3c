-- Reports per category over the time range, with the category's names and department kind; the
-- range read at the scope's own level (rollup_span, 0035).
WITH r AS (
    SELECT category_code, sum(n) AS n, sum(solved_4) AS solved_in_grid, sum(late) AS late,
           sum(solved_4 + solved_3 + solved_2 + solved_1) AS solved, sum(handling_s) AS handling_s
    FROM rollup_span(%(scope)s, (length(%(scope)s) - 3) / 3, %(since)s, %(until)s, %(categories)s::text[], false, true)
    GROUP BY 1
)
SELECT c.code, c.name, c.name_en, c.department_kind, coalesce(r.n, 0)::bigint AS n,
       coalesce(r.solved_in_grid, 0)::bigint AS solved_in_grid, coalesce(r.late, 0)::bigint AS late,
       coalesce(r.solved, 0)::bigint AS solved, coalesce(r.handling_s, 0) AS handling_s
FROM incident_category c
LEFT JOIN r ON r.category_code = c.code
WHERE (%(categories)s::text[] IS NULL OR c.code = ANY(%(categories)s::text[]))
ORDER BY n DESC, c.sort_order
