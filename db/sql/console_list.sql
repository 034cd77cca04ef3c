-- The dispatch console's incident table (data.console.page): one page of the incidents the caller
-- may see (domain.policy.row_params: jurisdiction, department, own reports) with the total, filtered,
-- sorted and paged on the server. Every filter is a bound parameter, NULL when not given; the sort
-- key is one of a fixed list (anything else sorts by received time). Free text searches the
-- description only when %(personal)s (the caller's role sees it; domain.policy), else category and
-- place names. Unmasked: data.policy.incidents_out masks each row for the caller.
WITH f AS (
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
      AND (%(number)s::text IS NULL OR i.id::text LIKE lower(%(number)s) || '%%')
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
), page AS (
    SELECT f.* FROM f
    ORDER BY
        CASE WHEN NOT %(desc)s THEN CASE %(sort)s WHEN 'received_at' THEN f.received_at
                                                  WHEN 'due_at' THEN f.due_at END END ASC,
        CASE WHEN %(desc)s THEN CASE %(sort)s WHEN 'received_at' THEN f.received_at
                                              WHEN 'due_at' THEN f.due_at END END DESC,
        CASE WHEN NOT %(desc)s THEN CASE %(sort)s WHEN 'id' THEN f.id::text WHEN 'state' THEN f.state
                                                  WHEN 'category' THEN f.category_code
                                                  WHEN 'department' THEN f.department_code
                                                  WHEN 'cell' THEN f.cell_code::text END COLLATE "C" END ASC,
        CASE WHEN %(desc)s THEN CASE %(sort)s WHEN 'id' THEN f.id::text WHEN 'state' THEN f.state
                                              WHEN 'category' THEN f.category_code
                                              WHEN 'department' THEN f.department_code
                                              WHEN 'cell' THEN f.cell_code::text END COLLATE "C" END DESC,
        CASE WHEN NOT %(desc)s AND %(sort)s = 'level' THEN f.handling_level END ASC,
        CASE WHEN %(desc)s AND %(sort)s = 'level' THEN f.handling_level END DESC,
        f.received_at DESC, f.id
    LIMIT %(limit)s OFFSET %(offset)s
), tz AS (SELECT timezone FROM region WHERE region_code = %(region_code)s)
SELECT (SELECT count(*) FROM f),
       coalesce((SELECT json_agg(json_build_object(
           'id', p.id, 'number', left(p.id::text, 8), 'category', p.category_code,
           'category_name', p.category_name, 'category_name_en', p.category_name_en,
           'description', p.description, 'reporter_id', p.reporter_id,
           'cell_code', p.cell_code, 'cell_name', p.cell_name, 'cell_name_en', p.cell_name_en,
           'state', p.state, 'handling_level', p.handling_level, 'overdue', p.is_overdue,
           'department_code', p.department_code, 'department_name', p.department_name,
           'department_name_en', p.department_name_en,
           'received_at', iso_local(p.received_at, (TABLE tz)),
           'due_at', iso_local(p.due_at, (TABLE tz))))
       FROM page p), '[]'::json)  -- json_agg over the ordered page keeps its order
