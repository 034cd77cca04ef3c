-- One state-machine action through the database's rules (see 0003_workflow.sql).
SELECT id FROM incident_act(%(id)s, %(action)s, %(actor)s, %(note)s,
    CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
    %(department)s, %(now)s)
