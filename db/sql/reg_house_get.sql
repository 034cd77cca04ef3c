-- One house under the scope, with its households and how many live in each.
SELECT h.id, h.uid::text, h.cell_code, h.address, h.use, h.floors, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
       h.synthetic,
       coalesce((SELECT json_agg(json_build_object('id', hh.id, 'uid', hh.uid, 'kind', hh.kind,
                                                   'members', (SELECT count(*) FROM reg_person p
                                                               WHERE p.household_id = hh.id AND p.moved_out_at IS NULL))
                                 ORDER BY hh.id)
                 FROM reg_household hh WHERE hh.house_id = h.id AND hh.moved_out_at IS NULL), '[]') AS households
FROM reg_house h
WHERE h.id = %(id)s AND h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
