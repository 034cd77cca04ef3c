-- The households registry of a scope, for the xlsx export (the house by its UUID).
SELECT hh.uid::text, h.uid::text AS house, hh.kind, hh.moved_out_at::date::text AS moved_out_at, hh.cell_code
FROM reg_household hh JOIN reg_house h ON h.id = hh.house_id
WHERE hh.region_code = %(region_code)s AND hh.cell_code LIKE %(scope)s || '%%'
ORDER BY hh.cell_code, hh.id
