-- Population, households and houses from the registry, per unit one level below the scope (per
-- cell when the scope is a cell), with the stored cell totals beside them.
WITH c AS (
    SELECT r.*, cp.population AS stored_population, cp.households AS stored_households
    FROM reg_cell_counts r LEFT JOIN cell_population cp ON cp.cell_code = r.cell_code
    WHERE r.region_code = %(region_code)s AND r.cell_code LIKE %(scope)s || '%%'
)
SELECT left(c.cell_code, least(length(%(scope)s) + 3, 15)) AS unit_code, u.name,
       sum(c.population)::int AS population, sum(c.households)::int AS households, sum(c.houses)::int AS houses
FROM c JOIN grid_unit u ON u.code = left(c.cell_code, least(length(%(scope)s) + 3, 15))
GROUP BY 1, 2 ORDER BY 1
