-- A facility of the region as a route end.
SELECT id, kind, name, ST_X(geom), ST_Y(geom)
FROM facility WHERE id = %(id)s AND region_code = %(region)s
