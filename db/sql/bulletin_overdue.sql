-- Open incidents under a unit whose deadline has passed at %(now)s, most overdue first (no
-- personal fields: the list goes into a bulletin any role of the unit may read).
SELECT i.id, i.category_code, c.name, c.name_en, i.cell_code, g.name, g.name_en, i.state, i.handling_level,
       i.received_at, i.due_at
FROM incident i
JOIN incident_category c ON c.code = i.category_code
JOIN grid_unit g ON g.code = i.cell_code
WHERE i.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%'
  AND incident_is_overdue(i.state, i.due_at, %(now)s)
ORDER BY i.due_at, i.id
LIMIT %(limit)s
