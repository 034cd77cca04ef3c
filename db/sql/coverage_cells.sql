-- Per level-4 cell in the caller's scope: residents, area, and the area inside the circle promised
-- to its kind of place — town cells (their village is a 社区, a town-seat community) get the town
-- minutes, pastoral cells the pastoral minutes. The isochrone is cut into small pieces first so
-- each cell intersects only the few pieces its box touches.
WITH cells AS (
    SELECT c.code, c.name, v.name AS village, c.geom, coalesce(p.population, 0) AS population,
           v.name LIKE '%%社区' AS town
    FROM grid_unit c
    JOIN grid_unit v ON v.code = c.parent_code
    LEFT JOIN cell_population p ON p.cell_code = c.code
    WHERE c.region_code = %(region)s AND c.level = 4 AND c.code LIKE %(scope)s || '%%'
), pieces AS MATERIALIZED (
    SELECT i.minutes, ST_Subdivide(i.geom, 128) AS geom
    FROM isochrone i
    WHERE i.region_code = %(region)s AND i.kind = %(kind)s
      AND i.minutes IN (%(town_minutes)s, %(pastoral_minutes)s) AND i.geom IS NOT NULL
)
SELECT c.code, c.name, c.village, c.town, m.minutes, c.population, area_m2(c.geom),
       coalesce((SELECT sum(area_m2(ST_Intersection(c.geom, p.geom)))
                 FROM pieces p WHERE p.minutes = m.minutes AND p.geom && c.geom), 0)
FROM cells c
CROSS JOIN LATERAL (SELECT CASE WHEN c.town THEN %(town_minutes)s ELSE %(pastoral_minutes)s END AS minutes) m
ORDER BY c.code
