-- A page of incidents the caller may see (domain.policy.row_params: jurisdiction, department, own
-- reports), newest first, with optional filters; every filter is a bound parameter that is NULL
-- when not given. Unmasked: data.policy.incident_out masks each row for the caller.
-- Times are ISO 8601 in the region's zone with its offset (iso_local); overdue is incident_is_overdue (0010_phase.sql).
SELECT json_build_object(
    'id', i.id, 'category', i.category_code, 'description', i.description, 'reporter_id', i.reporter_id,
    'lon', ST_X(i.geom), 'lat', ST_Y(i.geom), 'cell_code', i.cell_code, 'state', i.state,
    'handling_level', i.handling_level, 'due_at', iso_local(i.due_at, r.timezone),
    'overdue', incident_is_overdue(i.state, i.due_at, %(now)s),
    'department_code', i.department_code, 'observed_at', iso_local(i.observed_at, r.timezone),
    'received_at', iso_local(i.received_at, r.timezone), 'solved_level', i.solved_level)
FROM incident i JOIN region r ON r.region_code = i.region_code
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
  AND (%(states)s::text[] IS NULL OR i.state = ANY(%(states)s::text[]))
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
  AND (%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)
  AND (%(bbox)s::float8[] IS NULL OR i.geom && ST_MakeEnvelope(
        (%(bbox)s::float8[])[1], (%(bbox)s::float8[])[2], (%(bbox)s::float8[])[3], (%(bbox)s::float8[])[4], 4326))
  AND (NOT %(overdue)s OR incident_is_overdue(i.state, i.due_at, %(now)s))
ORDER BY i.received_at DESC, i.id
LIMIT %(limit)s OFFSET %(offset)s
