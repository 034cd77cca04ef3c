-- One household under the scope, with its house.
SELECT hh.id, hh.uid::text, hh.cell_code, hh.kind, hh.house_id, h.uid::text AS house_uid, h.address,
       hh.moved_out_at::text
FROM reg_household hh JOIN reg_house h ON h.id = hh.house_id
WHERE hh.region_code = %(region_code)s AND hh.cell_code LIKE %(scope)s || '%%'
  AND (%(id)s::bigint IS NULL OR hh.id = %(id)s) AND (%(uid)s::uuid IS NULL OR hh.uid = %(uid)s::uuid)
