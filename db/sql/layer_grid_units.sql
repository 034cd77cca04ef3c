-- Grid units of one level with their statistics: only units under the scope, plus (for the map's
-- outline, %(outline)s) the ancestors the jurisdiction sits in. People come from cell_population;
-- reports and the share solved in the grid from the incident roll-up over the local-day range;
-- open and overdue from incidents open now. Statistics are skipped when %(with_stats)s is false.
WITH units AS (
    SELECT u.code, u.name, u.name_en, u.level, u.parent_code, u.synthetic, u.geom
    FROM grid_unit u
    WHERE u.region_code = %(region_code)s AND u.level = %(level)s
      AND (u.code LIKE %(scope)s || '%%' OR (%(outline)s AND %(scope)s LIKE u.code || '%%'))
), people AS (
    SELECT left(p.cell_code, 3 + 3 * %(level)s) AS code, sum(p.population) AS population,
           sum(p.households) AS households
    FROM cell_population p WHERE p.region_code = %(region_code)s
    GROUP BY 1
), reported AS (
    -- units above the scope (the outline's ancestors) count the scope's own rows, as before
    SELECT left(r.unit_code, 3 + 3 * %(level)s) AS code, sum(r.n) AS n, sum(r.solved_4) AS s4,
           sum(r.solved_4 + r.solved_3 + r.solved_2 + r.solved_1) AS solved
    FROM (SELECT timezone AS name FROM region WHERE region_code = %(region_code)s) tz,
         rollup_span(%(scope)s, greatest(%(level)s, (length(%(scope)s) - 3) / 3), local_day(%(since)s, tz.name),
                     local_day(%(until)s, tz.name), %(categories)s::text[]) r
    WHERE %(with_stats)s
    GROUP BY 1
), open AS (
    SELECT left(i.cell_code, 3 + 3 * %(level)s) AS code, count(*) AS open,
           count(*) FILTER (WHERE incident_is_overdue(i.state, i.due_at, %(now)s)) AS overdue
    FROM incident i
    WHERE %(with_stats)s AND i.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%'
      AND incident_is_open(i.state)
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
      AND (%(department)s::text IS NULL OR i.department_code = %(department)s)
    GROUP BY 1
)
SELECT u.code AS fid, u.geom, u.code, u.name, u.name_en, u.level::int AS level, u.parent_code, u.synthetic,
       coalesce(p.population, 0)::int AS population, coalesce(p.households, 0)::int AS households,
       round((area_m2(u.geom) / 1e6)::numeric, 2)::float8 AS area_km2,
       round((coalesce(p.population, 0) / nullif(area_m2(u.geom) / 1e6, 0))::numeric, 2)::float8 AS density,
       coalesce(r.n, 0)::int AS reports, coalesce(o.open, 0)::int AS open, coalesce(o.overdue, 0)::int AS overdue,
       round(100.0 * r.s4 / nullif(r.solved, 0), 1)::float8 AS in_grid_pct,
       ST_X(ST_PointOnSurface(u.geom)) AS label_lon, ST_Y(ST_PointOnSurface(u.geom)) AS label_lat
FROM units u
LEFT JOIN people p ON p.code = u.code
LEFT JOIN reported r ON r.code = u.code
LEFT JOIN open o ON o.code = u.code
