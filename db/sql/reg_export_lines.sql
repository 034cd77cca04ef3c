-- The protected lines whose responsible unit lies in a scope, for the xlsx export (WKT).
SELECT l.uid::text, l.kind, l.name, l.unit_code, ST_AsText(l.geom, 7) AS geometry
FROM reg_line l WHERE l.region_code = %(region_code)s AND l.unit_code LIKE %(scope)s || '%%'
ORDER BY l.unit_code, l.id
