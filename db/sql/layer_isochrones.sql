-- Service-reach isochrones (routing's cache, one per facility kind and minutes), clipped to the
-- jurisdiction unit so no one sees reach beyond their own area.
SELECT i.kind || '-' || i.minutes AS fid,
       ST_Multi(ST_CollectionExtract(ST_Intersection(i.geom, u.geom), 3)) AS geom,
       i.kind, i.minutes::int AS minutes, i.facilities, i.built_at
FROM isochrone i
JOIN grid_unit u ON u.code = %(scope)s AND u.region_code = i.region_code
WHERE i.region_code = %(region_code)s AND i.geom IS NOT NULL AND ST_Intersects(i.geom, u.geom)
