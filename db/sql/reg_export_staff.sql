-- The staff of the organisations of a scope, for the xlsx export (the organisation by its UUID;
-- phones only masked).
SELECT s.uid::text, o.uid::text AS org, s.name, s.post, s.phone_masked AS phone
FROM reg_org_staff s JOIN reg_org o ON o.id = s.org_id
WHERE o.region_code = %(region_code)s AND o.cell_code LIKE %(scope)s || '%%'
ORDER BY o.cell_code, o.id, s.id
