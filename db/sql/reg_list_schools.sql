-- Schools and their surroundings under the scope.
SELECT s.id, s.uid::text, s.cell_code, s.name, s.stage, s.students, s.surroundings, s.facility_id,
       ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, s.synthetic
FROM reg_school s WHERE s.region_code = %(region_code)s AND s.cell_code LIKE %(scope)s || '%%'
ORDER BY s.cell_code, s.id LIMIT %(limit)s OFFSET %(offset)s
