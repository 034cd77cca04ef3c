-- Open a mediation case for a dispute (a category of GB/T 31000 domain 7), once per incident.
INSERT INTO mediation_case (region_code, incident_id, kind, stage, created_at, updated_at, created_by)
SELECT i.region_code, i.id, %(kind)s, 'accepted', %(now)s, %(now)s, %(actor)s
FROM incident i JOIN incident_category c ON c.code = i.category_code
WHERE i.id = %(id)s AND c.gbt31000_domain = 7
ON CONFLICT (incident_id) DO NOTHING
RETURNING id
