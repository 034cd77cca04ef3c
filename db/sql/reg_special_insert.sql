-- A person joins a special group (once per kind); the cell is the person's.
INSERT INTO reg_special_group (region_code, person_id, cell_code, kind, since)
SELECT p.region_code, p.id, p.cell_code, %(kind)s, %(since)s FROM reg_person p
WHERE p.id = %(person_id)s AND p.region_code = %(region_code)s
ON CONFLICT (person_id, kind) DO UPDATE SET since = reg_special_group.since
RETURNING id, (xmax = 0) AS created
