-- The cell (and row id) of a registry row by id or client UUID: %(kind)s is house, household or person.
SELECT id, cell_code FROM reg_house
WHERE %(kind)s = 'house' AND region_code = %(region_code)s
  AND (id = %(id)s::bigint OR uid = %(uid)s::uuid)
UNION ALL
SELECT id, cell_code FROM reg_household
WHERE %(kind)s = 'household' AND region_code = %(region_code)s
  AND (id = %(id)s::bigint OR uid = %(uid)s::uuid)
UNION ALL
SELECT id, cell_code FROM reg_person
WHERE %(kind)s = 'person' AND region_code = %(region_code)s
  AND (id = %(id)s::bigint OR uid = %(uid)s::uuid)
