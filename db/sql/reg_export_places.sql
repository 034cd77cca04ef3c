-- The public-order places of a scope, for the xlsx export (the organisation by its UUID).
SELECT p.uid::text, p.kind, p.name, o.uid::text AS org, round(ST_X(p.geom)::numeric, 7)::float8 AS lon,
       round(ST_Y(p.geom)::numeric, 7)::float8 AS lat, p.cell_code
FROM reg_place p LEFT JOIN reg_org o ON o.id = p.org_id
WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%'
ORDER BY p.cell_code, p.id
