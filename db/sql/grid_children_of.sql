-- Stored units of one level under the given parents: the siblings an import must fit beside.
SELECT code, level, name, parent_code, ST_AsBinary(geom) AS wkb
FROM grid_unit
WHERE level = %(level)s AND parent_code = ANY(%(parents)s)
ORDER BY code
