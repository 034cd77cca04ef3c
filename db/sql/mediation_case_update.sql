-- Move a mediation case to its next stage.
UPDATE mediation_case SET stage = %(stage)s, updated_at = %(now)s,
       station_id = coalesce(%(station_id)s, station_id), team = coalesce(%(team)s, team),
       outcome_text = coalesce(%(outcome_text)s, outcome_text)
WHERE incident_id = %(id)s AND stage = %(from_stage)s
RETURNING id
