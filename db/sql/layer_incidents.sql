-- Incidents in the jurisdiction (department staff: their department's only; a reporter also their
-- own reports), with the filters of the export page; every filter is a bound parameter that is NULL when not given.
-- pk is the paging key (layers.incidents: keyset pages in the order of incident_region_id_idx).
-- The category is a LEFT JOIN (every incident has one: NOT NULL and a foreign key), so a query
-- that reads no category name drops the join: an offset's seek (export_key_at.sql) is then an
-- index-only walk of incident_region_id_idx.
SELECT i.id::text AS fid, i.id AS pk, i.geom, i.id::text AS id, i.category_code AS category, c.name AS category_name,
       i.state, incident_phase(i.state) AS status,
       i.handling_level::int AS handling_level, i.cell_code, i.department_code AS department,
       i.observed_at, i.received_at, i.due_at, i.resolved_at, i.solved_level::int AS solved_level,
       incident_is_overdue(i.state, i.due_at, %(now)s) AS overdue,
       i.source, w.code AS reporter, i.description
FROM incident i
LEFT JOIN incident_category c ON c.code = i.category_code
LEFT JOIN grid_worker w ON w.id = i.reporter_id
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))  -- domain.policy.row_params
  AND (%(states)s::text[] IS NULL OR i.state = ANY(%(states)s::text[]))
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
  AND (%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)
