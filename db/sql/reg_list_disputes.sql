-- Disputes under the scope with their mediation station and incident (the summary is free text:
-- the caller masks it for roles without the personal class).
SELECT d.id, d.cell_code, d.kind, d.summary, d.parties, d.state, d.mediation_id, f.name AS mediation,
       d.incident_id::text, d.opened_at::text, d.settled_at::text, d.synthetic
FROM reg_dispute d LEFT JOIN facility f ON f.id = d.mediation_id
WHERE d.region_code = %(region_code)s AND d.cell_code LIKE %(scope)s || '%%'
ORDER BY d.opened_at DESC, d.id LIMIT %(limit)s OFFSET %(offset)s
