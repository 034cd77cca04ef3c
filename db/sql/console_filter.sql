-- The dispatch console's filtered incidents (data.console.page), the body that console_page.sql
-- pages and console_count.sql counts: the incidents the caller may see (domain.policy.row_params:
-- jurisdiction, department, own reports) that match the filters. Every filter is a bound
-- parameter, NULL when not given. A number prefix is also a range of ids (%(id_lo)s..%(id_hi)s:
-- an index range at 10M incidents, not a scan). Free text searches the description only when
-- %(personal)s (the caller's role sees it; domain.policy): the characters' index (0045) finds the
-- candidates, the substring test decides; it also matches the categories and cells whose names
-- contain it (console_text_names.sql, NULL when none: the arm is then planned away).
-- Only the id and the sort keys (data.console._SORT_SQL): the page joins the rest for its rows.
SELECT i.id, i.received_at, i.due_at, i.state, i.category_code, i.department_code, i.cell_code,
       i.handling_level
FROM incident i
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
  AND (%(number)s::text IS NULL
       OR (i.id BETWEEN %(id_lo)s::uuid AND %(id_hi)s::uuid AND i.id::text LIKE lower(%(number)s) || '%%'))
  AND (%(text)s::text IS NULL
       OR (%(personal)s
           AND string_to_array(lower(i.description), NULL) @> string_to_array(lower(%(text)s), NULL)
           AND strpos(lower(i.description), lower(%(text)s)) > 0)
       OR (%(text_categories)s::text[] IS NOT NULL AND i.category_code = ANY(%(text_categories)s::text[]))
       OR (%(text_cells)s::text[] IS NOT NULL AND i.cell_code = ANY(%(text_cells)s::text[])))
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
