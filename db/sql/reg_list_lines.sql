-- Roads and lines under protection whose responsible unit lies under the scope.
SELECT l.id, l.uid::text, l.unit_code AS cell_code, l.kind, l.name, ST_Length(l.geom::geography)::int AS length_m, l.synthetic
FROM reg_line l WHERE l.region_code = %(region_code)s AND l.unit_code LIKE %(scope)s || '%%'
ORDER BY l.unit_code, l.id LIMIT %(limit)s OFFSET %(offset)s
