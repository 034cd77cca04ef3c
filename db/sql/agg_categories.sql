-- Reports per category over the time range, with the category's names and department kind.
SELECT c.code, c.name, c.name_en, c.department_kind, coalesce(sum(r.n), 0) AS n,
       coalesce(sum(r.solved_4), 0) AS solved_in_grid, coalesce(sum(r.late), 0) AS late,
       coalesce(sum(r.solved_4 + r.solved_3 + r.solved_2 + r.solved_1), 0) AS solved,
       coalesce(sum(r.handling_s), 0) AS handling_s
FROM incident_category c
LEFT JOIN incident_rollup r ON r.category_code = c.code AND r.cell_code LIKE %(scope)s || '%%'
     AND r.day >= %(since)s AND r.day < %(until)s
WHERE (%(categories)s::text[] IS NULL OR c.code = ANY(%(categories)s::text[]))
GROUP BY c.code, c.name, c.name_en, c.department_kind, c.sort_order
ORDER BY n DESC, c.sort_order
