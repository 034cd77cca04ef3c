-- Stored units with the given codes (any level), geometry as WKB for shapely.
SELECT code, level, name, parent_code, ST_AsBinary(geom) AS wkb
FROM grid_unit
WHERE code = ANY(%(codes)s)
ORDER BY code
