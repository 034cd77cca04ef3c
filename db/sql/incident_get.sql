-- One incident as JSON, if the caller may see it (domain.policy.row_params): in the jurisdiction
-- (unit code prefix) and, for department staff, their department's; or reported by the caller.
-- Unmasked: data.policy.incident_out masks it for the caller. Times are ISO 8601 in the region's zone with its
-- offset (iso_local); overdue is incident_is_overdue (0010_phase.sql).
SELECT json_build_object(
    'id', i.id, 'region_code', i.region_code, 'category', i.category_code, 'category_name', c.name,
    'category_name_en', c.name_en, 'description', i.description,
    'lon', ST_X(i.geom), 'lat', ST_Y(i.geom), 'cell_code', i.cell_code,
    'village_code', left(i.cell_code, 12), 'town_code', left(i.cell_code, 9),
    'state', i.state, 'handling_level', i.handling_level, 'due_at', iso_local(i.due_at, r.timezone),
    'overdue', incident_is_overdue(i.state, i.due_at, %(now)s), 'timezone', r.timezone,
    'department_code', i.department_code, 'observed_at', iso_local(i.observed_at, r.timezone),
    'received_at', iso_local(i.received_at, r.timezone), 'resolved_at', iso_local(i.resolved_at, r.timezone),
    'closed_at', iso_local(i.closed_at, r.timezone), 'solved_level', i.solved_level,
    'reporter_id', i.reporter_id, 'source', i.source, 'reopened', i.reopened, 'merged_into', i.merged_into,
    'photos', (SELECT coalesce(json_agg(json_build_object('id', p.id, 'content_type', p.content_type,
                     'size_bytes', p.size_bytes, 'sha256', p.sha256) ORDER BY p.id), '[]'::json)
               FROM incident_photo p WHERE p.incident_id = i.id),
    'timeline', (SELECT coalesce(json_agg(json_build_object('at', iso_local(e.at, r.timezone), 'action', e.action,
                     'from_state', e.from_state, 'to_state', e.to_state, 'level', e.level,
                     'actor', e.actor, 'note', e.note,
                     'lon', ST_X(e.geom), 'lat', ST_Y(e.geom)) ORDER BY e.at, e.id), '[]'::json)
                 FROM incident_event e WHERE e.incident_id = i.id))
FROM incident i JOIN incident_category c ON c.code = i.category_code
JOIN region r ON r.region_code = i.region_code
WHERE i.id = %(id)s AND i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
