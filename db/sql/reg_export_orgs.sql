-- The organisations of a scope, for the xlsx export.
SELECT o.uid::text, o.kind, o.name, o.credit_code, o.address, o.staff_count,
       round(ST_X(o.geom)::numeric, 7)::float8 AS lon, round(ST_Y(o.geom)::numeric, 7)::float8 AS lat, o.cell_code
FROM reg_org o WHERE o.region_code = %(region_code)s AND o.cell_code LIKE %(scope)s || '%%'
ORDER BY o.cell_code, o.id
