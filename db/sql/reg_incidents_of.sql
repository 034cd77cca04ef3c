-- Incidents linked to a person or a house, with what the row rule needs; newest first.
SELECT i.id::text, i.category_code AS category, i.state, incident_phase(i.state) AS status, i.cell_code,
       i.department_code, i.reporter_id, i.received_at
FROM reg_incident_link l JOIN incident i ON i.id = l.incident_id
WHERE l.region_code = %(region_code)s
  AND ((%(person_id)s::bigint IS NOT NULL AND l.person_id = %(person_id)s)
       OR (%(house_id)s::bigint IS NOT NULL AND l.house_id = %(house_id)s))
ORDER BY i.received_at DESC LIMIT 200
