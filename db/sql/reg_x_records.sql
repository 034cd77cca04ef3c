-- Records of a local type under the scope.
SELECT id, uid::text, cell_code, data, ST_X(geom) AS lon, ST_Y(geom) AS lat, updated_at
FROM reg_extension_record
WHERE region_code = %(region_code)s AND kind_code = %(kind)s AND cell_code LIKE %(scope)s || '%%'
ORDER BY cell_code, id LIMIT %(limit)s OFFSET %(offset)s
