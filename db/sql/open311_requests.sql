-- Incidents as Open311 service requests, in the caller's jurisdiction (unit code prefix; department
-- staff only their department's), newest first. Every filter is a bound parameter, NULL when not
-- given. Open311's status follows the phase (0010_phase.sql): "open" for the open phase, "closed"
-- for resolved and closed.
-- The last state event (not a note) gives status_notes; the newest 'media_url: ' note the media_url.
SELECT i.id, i.state, i.reporter_id, i.category_code, c.name AS category_name, c.name_en AS category_name_en,
       i.description, i.department_code, d.name AS department_name, d.name_en AS department_name_en,
       i.received_at, i.due_at, i.handling_level, i.cell_code, r.timezone,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       NOT incident_is_open(i.state) AS closed,
       incident_is_overdue(i.state, i.due_at, %(now)s) AS overdue,
       cell.name AS cell_name, cell.name_en AS cell_name_en,
       vil.name AS village_name, vil.name_en AS village_name_en,
       town.name AS town_name, town.name_en AS town_name_en,
       banner.name AS banner_name, banner.name_en AS banner_name_en,
       coalesce(ev.updated_at, i.received_at) AS updated_at,
       last.action AS last_action, last.note AS last_note, last.level AS last_level,
       media.url AS media_url
FROM incident i
JOIN incident_category c ON c.code = i.category_code
JOIN region r ON r.region_code = i.region_code
LEFT JOIN department d ON d.code = i.department_code
LEFT JOIN grid_unit cell ON cell.code = i.cell_code
LEFT JOIN grid_unit vil ON vil.code = left(i.cell_code, 12)
LEFT JOIN grid_unit town ON town.code = left(i.cell_code, 9)
LEFT JOIN grid_unit banner ON banner.code = i.region_code
LEFT JOIN LATERAL (SELECT max(e.at) AS updated_at FROM incident_event e
                   WHERE e.incident_id = i.id) ev ON true
LEFT JOIN LATERAL (SELECT e.action, e.note, e.level FROM incident_event e
                   WHERE e.incident_id = i.id AND e.action <> 'note'
                   ORDER BY e.at DESC, e.id DESC LIMIT 1) last ON true
LEFT JOIN LATERAL (SELECT substring(e.note FROM '^media_url: (\S+)') AS url FROM incident_event e
                   WHERE e.incident_id = i.id AND e.action = 'note' AND e.note LIKE 'media\_url: %%'
                   ORDER BY e.at DESC, e.id DESC LIMIT 1) media ON true
WHERE i.region_code = %(region_code)s
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))  -- domain.policy.row_params
  AND (%(ids)s::uuid[] IS NULL OR i.id = ANY(%(ids)s::uuid[]))
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR i.received_at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR i.received_at <= %(end)s)
  AND (%(closed)s::boolean IS NULL OR (NOT incident_is_open(i.state)) = %(closed)s)
ORDER BY i.received_at DESC, i.id
LIMIT %(limit)s
