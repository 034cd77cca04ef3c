-- A department's base as a route end.
SELECT code, kind, name, ST_X(base_geom), ST_Y(base_geom)
FROM department WHERE code = %(code)s AND region_code = %(region)s
