-- Houses under a scope (optionally whose address contains %(q)s), with their households and how
-- many live in each; for the field app's registry list. Newest first within a cell.
SELECT h.id, h.uid::text, h.cell_code, h.address, h.use, h.floors, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
       coalesce((SELECT json_agg(json_build_object('id', hh.id, 'uid', hh.uid, 'kind', hh.kind,
                                                   'members', (SELECT count(*) FROM reg_person p
                                                               WHERE p.household_id = hh.id AND p.moved_out_at IS NULL))
                                 ORDER BY hh.id)
                 FROM reg_household hh WHERE hh.house_id = h.id AND hh.moved_out_at IS NULL), '[]') AS households
FROM reg_house h
WHERE h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
  AND (%(q)s::text IS NULL OR strpos(lower(h.address), lower(%(q)s)) > 0)
ORDER BY h.cell_code, h.updated_at DESC, h.id DESC
LIMIT %(limit)s OFFSET %(offset)s
