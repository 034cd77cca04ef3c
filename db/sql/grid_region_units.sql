-- Every stored unit of a region, all four levels.
SELECT code, level, name, parent_code, ST_AsBinary(geom) AS wkb
FROM grid_unit
WHERE region_code = %(region_code)s
ORDER BY level, code
