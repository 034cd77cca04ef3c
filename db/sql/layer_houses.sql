-- Houses of the registry (实有房屋) in the jurisdiction, with how many households and residents
-- live in each now (people counts: suppressed for small numbers by the layer's field rules).
SELECT h.id::text AS fid, h.geom, h.id::text AS id, h.use, h.address, h.floors::int AS floors, h.cell_code,
       coalesce(hh.n, 0)::int AS households, coalesce(p.n, 0)::int AS residents, h.synthetic,
       ST_AsText(h.footprint, 7) AS footprint
FROM reg_house h
LEFT JOIN (SELECT house_id, count(*) AS n FROM reg_household WHERE moved_out_at IS NULL GROUP BY house_id) hh
       ON hh.house_id = h.id
LEFT JOIN (SELECT x.house_id, count(*) AS n FROM reg_person q JOIN reg_household x ON x.id = q.household_id
           WHERE q.moved_out_at IS NULL GROUP BY x.house_id) p ON p.house_id = h.id
WHERE h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
