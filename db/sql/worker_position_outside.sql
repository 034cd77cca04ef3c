-- Fixes of a batch (1-based index i) farther than %(tolerance_m)s metres outside the region: a
-- phone reporting from another city has a broken GPS or a borrowed account, not a patrol.
-- Inside is one point-in-polygon test; the distance is computed only for the points outside.
SELECT f.i, round(ST_Distance(f.p::geography, u.geom::geography)::numeric, 1)::float8 AS outside_m
FROM unnest(%(lons)s::float8[], %(lats)s::float8[]) WITH ORDINALITY AS x(lon, lat, i)
CROSS JOIN LATERAL (SELECT x.i, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326) AS p) f
JOIN grid_unit u ON u.region_code = %(region_code)s AND u.level = 1
WHERE NOT ST_Intersects(u.geom, f.p)
  AND NOT ST_DWithin(f.p::geography, u.geom::geography, %(tolerance_m)s)
ORDER BY f.i
