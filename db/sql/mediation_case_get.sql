-- A mediation case with its incident's state and its station's name, or none.
SELECT m.id, m.incident_id, m.kind, m.stage, m.station_id, f.name, f.name_en, m.team, m.outcome_text,
       iso_local(m.created_at, r.timezone), iso_local(m.updated_at, r.timezone), m.created_by, i.state
FROM mediation_case m
JOIN incident i ON i.id = m.incident_id
JOIN region r ON r.region_code = m.region_code
LEFT JOIN facility f ON f.id = m.station_id
WHERE m.incident_id = %(id)s
