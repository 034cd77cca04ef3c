-- Cells under a unit and whether a worker's fix fell inside them since a time (patrol coverage).
WITH fixes AS (
    SELECT DISTINCT grid_cell_at(p.region_code, p.geom) AS cell_code
    FROM worker_position p
    WHERE p.region_code = %(region_code)s AND p.at >= %(since)s
)
SELECT u.code, u.name, f.cell_code IS NOT NULL AS visited
FROM grid_unit u LEFT JOIN fixes f ON f.cell_code = u.code
WHERE u.region_code = %(region_code)s AND u.level = 4 AND u.code LIKE %(scope)s || '%%'
ORDER BY u.code
