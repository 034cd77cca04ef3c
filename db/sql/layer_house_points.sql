-- The houses layer's "points" map variant (high zoom): the houses in the viewport, capped.
SELECT h.id::text AS fid, h.geom, h.id::text AS id, h.use
FROM reg_house h
WHERE h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
  AND h.geom && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)
ORDER BY h.id
LIMIT %(limit)s
