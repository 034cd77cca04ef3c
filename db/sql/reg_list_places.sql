-- Public-order places under the scope.
SELECT p.id, p.uid::text, p.cell_code, p.kind, p.name, p.org_id, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat, p.synthetic
FROM reg_place p WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%'
ORDER BY p.cell_code, p.id LIMIT %(limit)s OFFSET %(offset)s
