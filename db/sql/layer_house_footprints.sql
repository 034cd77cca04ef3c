-- The houses layer's "footprints" map variant (highest zooms): the houses in the viewport, each as
-- its footprint polygon when it has one (``outline``), else as its point; capped.
SELECT h.id::text AS fid, coalesce(h.footprint, h.geom) AS geom, h.id::text AS id, h.use,
       h.footprint IS NOT NULL AS outline
FROM reg_house h
WHERE h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
  AND coalesce(h.footprint, h.geom) && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)
ORDER BY h.id
LIMIT %(limit)s
