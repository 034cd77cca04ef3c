-- The schools of a scope, for the xlsx export.
SELECT s.uid::text, s.name, s.stage, s.students, s.surroundings, round(ST_X(s.geom)::numeric, 7)::float8 AS lon,
       round(ST_Y(s.geom)::numeric, 7)::float8 AS lat, s.cell_code
FROM reg_school s WHERE s.region_code = %(region_code)s AND s.cell_code LIKE %(scope)s || '%%'
ORDER BY s.cell_code, s.id
