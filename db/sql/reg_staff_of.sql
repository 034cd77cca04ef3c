-- The staff of one organisation (phones only masked).
SELECT s.id, s.uid::text, s.name, s.post, s.phone_masked
FROM reg_org_staff s WHERE s.org_id = %(org_id)s AND s.region_code = %(region_code)s
ORDER BY s.id
