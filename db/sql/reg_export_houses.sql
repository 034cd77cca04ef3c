-- The houses registry of a scope, for the xlsx export (the footprint as WKT).
SELECT h.uid::text, h.address, h.use, h.floors, round(ST_X(h.geom)::numeric, 7)::float8 AS lon,
       round(ST_Y(h.geom)::numeric, 7)::float8 AS lat, h.cell_code, ST_AsText(h.footprint, 7) AS footprint
FROM reg_house h WHERE h.region_code = %(region_code)s AND h.cell_code LIKE %(scope)s || '%%'
ORDER BY h.cell_code, h.id
