-- Resolved cases waiting for their return visit (none recorded for this resolution), in the
-- caller's jurisdiction; a grid worker's list is the cases they reported. Oldest first.
SELECT i.id, i.category_code, c.name, c.name_en, i.state, i.cell_code, u.name, u.name_en,
       iso_local(i.resolved_at, r.timezone), i.reporter_id,
       CASE WHEN i.reporter_id IS NOT NULL THEN 'grid_worker' ELSE 'back_office' END
FROM incident i
JOIN incident_category c ON c.code = i.category_code
JOIN grid_unit u ON u.code = i.cell_code
JOIN region r ON r.region_code = i.region_code
WHERE i.region_code = %(region_code)s AND i.state IN ('resolved', 'verified', 'closed')
  AND i.resolved_at IS NOT NULL AND i.merged_into IS NULL
  AND i.resolved_at >= %(now)s - make_interval(days => %(days)s)
  AND NOT EXISTS (SELECT 1 FROM return_visit v WHERE v.incident_id = i.id AND v.round = i.reopened)
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
  AND (%(only_reporter)s::int IS NULL OR i.reporter_id = %(only_reporter)s::int)
ORDER BY i.resolved_at, i.id
LIMIT %(limit)s
