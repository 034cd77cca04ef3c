-- The dispatch console's filtered incidents (data.console.page), the body that console_page.sql
-- pages and console_count.sql counts: the incidents the caller may see (domain.policy.row_params:
-- jurisdiction, department, own reports) that match the filters. Every filter is a bound
-- parameter, NULL when not given. A number prefix is also a range of ids (%(id_lo)s..%(id_hi)s:
-- an index range at 10M incidents, not a scan). Free text searches the description only when
-- %(personal)s (the caller's role sees it; domain.policy), else category and place names.
SELECT i.*, c.name AS category_name, c.name_en AS category_name_en, g.name AS cell_name,
       g.name_en AS cell_name_en, d.name AS department_name, d.name_en AS department_name_en,
       incident_is_overdue(i.state, i.due_at, %(now)s) AS is_overdue
FROM incident i
JOIN incident_category c ON c.code = i.category_code
JOIN grid_unit g ON g.code = i.cell_code
LEFT JOIN department d ON d.code = i.department_code
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
  AND (%(number)s::text IS NULL
       OR (i.id BETWEEN %(id_lo)s::uuid AND %(id_hi)s::uuid AND i.id::text LIKE lower(%(number)s) || '%%'))
  AND (%(text)s::text IS NULL
       OR (%(personal)s AND strpos(lower(i.description), lower(%(text)s)) > 0)
       OR strpos(lower(c.name || ' ' || c.name_en || ' ' || g.name || ' ' || coalesce(g.name_en, '')),
                 lower(%(text)s)) > 0)
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
  AND (%(states)s::text[] IS NULL OR i.state = ANY(%(states)s::text[]))
  AND (%(departments)s::text[] IS NULL OR i.department_code = ANY(%(departments)s::text[]))
  AND (%(levels)s::int[] IS NULL OR i.handling_level = ANY(%(levels)s::int[]))
  AND (NOT %(overdue)s OR incident_is_overdue(i.state, i.due_at, %(now)s))
  AND (%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)
  AND (%(queue)s::text IS NULL
       OR (%(queue)s = 'new' AND i.state = 'new')
       OR (%(queue)s = 'overdue' AND incident_is_overdue(i.state, i.due_at, %(now)s))
       OR (%(queue)s = 'escalated' AND incident_is_open(i.state) AND i.handling_level = %(my_level)s
           AND EXISTS (SELECT 1 FROM incident_event e WHERE e.incident_id = i.id
                       AND e.action = 'escalate' AND e.level = %(my_level)s)))
