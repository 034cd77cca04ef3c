-- An organisation of the region by id or client UUID: (id, cell).
SELECT id, cell_code FROM reg_org
WHERE region_code = %(region_code)s AND (id = %(id)s::bigint OR uid = %(uid)s::uuid)
