-- Which of the other registries holds a client UUID: (kind, id, region, cell, organisation id).
SELECT 'org', id, region_code, cell_code, NULL::bigint FROM reg_org WHERE uid = %(uid)s::uuid
UNION ALL
SELECT 'staff', s.id, s.region_code, o.cell_code, s.org_id FROM reg_org_staff s JOIN reg_org o ON o.id = s.org_id
WHERE s.uid = %(uid)s::uuid
UNION ALL
SELECT 'place', id, region_code, cell_code, org_id FROM reg_place WHERE uid = %(uid)s::uuid
UNION ALL
SELECT 'school', id, region_code, cell_code, NULL FROM reg_school WHERE uid = %(uid)s::uuid
UNION ALL
SELECT 'line', id, region_code, unit_code, NULL FROM reg_line WHERE uid = %(uid)s::uuid
LIMIT 1
