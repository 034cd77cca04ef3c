-- The facilities of one kind in a region, the sources of its isochrones.
SELECT id, name, ST_X(geom), ST_Y(geom) FROM facility
WHERE region_code = %(region)s AND kind = %(kind)s ORDER BY id
