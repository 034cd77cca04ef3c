-- Residents per km² of each level-4 cell under the scope (the choropleth's density theme; the
-- caller blanks the cells whose resident count its role may not see, as the cells layer does).
SELECT p.cell_code, p.population,
       round((coalesce(p.population, 0) / nullif(area_m2(u.geom) / 1e6, 0))::numeric, 2)::float8 AS density
FROM cell_population p JOIN grid_unit u ON u.code = p.cell_code
WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%'
