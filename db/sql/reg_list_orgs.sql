-- Organisations (governance, business, social) under the scope.
SELECT o.id, o.uid::text, o.cell_code, o.kind, o.name, o.credit_code, o.address, o.staff_count,
       ST_X(o.geom) AS lon, ST_Y(o.geom) AS lat, o.synthetic
FROM reg_org o WHERE o.region_code = %(region_code)s AND o.cell_code LIKE %(scope)s || '%%'
ORDER BY o.cell_code, o.id LIMIT %(limit)s OFFSET %(offset)s
