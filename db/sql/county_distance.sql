-- Whether a point lies in the region's grid, and if not how far outside it is (metres).
SELECT grid_cell_at(%(region_code)s, p) IS NOT NULL AS inside,
       ST_Distance(p::geography, (SELECT geom FROM grid_unit WHERE region_code = %(region_code)s AND level = 1)::geography) AS outside_m
FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS p) s
