-- Coverage gaps of the service reach of one facility kind (%(kind)s, routing's cached isochrones):
-- per level-4 cell under the scope, the part outside the circle promised to its kind of place —
-- %(town_minutes)s minutes for town-seat cells (their village is a 社区), %(pastoral_minutes)s for
-- pastoral ones — for the cells whose covered share is under %(gap_share)s. Residents are taken as
-- spread uniformly over the cell (the registry has nothing finer), as data.routing.reach does.
WITH cells AS (
    SELECT c.code, c.name, c.geom, coalesce(p.population, 0) AS population,
           CASE WHEN v.name LIKE '%%社区' THEN %(town_minutes)s ELSE %(pastoral_minutes)s END AS minutes
    FROM grid_unit c
    JOIN grid_unit v ON v.code = c.parent_code
    LEFT JOIN cell_population p ON p.cell_code = c.code
    WHERE c.region_code = %(region_code)s AND c.level = 4 AND c.code LIKE %(scope)s || '%%'
), pieces AS MATERIALIZED (
    SELECT i.minutes, ST_Subdivide(i.geom, 128) AS geom FROM isochrone i
    WHERE i.region_code = %(region_code)s AND i.kind = %(kind)s AND i.geom IS NOT NULL
      AND i.minutes IN (%(town_minutes)s, %(pastoral_minutes)s)
), shares AS (
    SELECT c.*, area_m2(c.geom) AS area,
           coalesce((SELECT sum(area_m2(ST_Intersection(c.geom, p.geom)))
                     FROM pieces p WHERE p.minutes = c.minutes AND p.geom && c.geom), 0) AS covered
    FROM cells c
), gaps AS (  -- only the gap cells get the (costlier) difference below
    SELECT s.*, least(1.0, s.covered / s.area) AS share
    FROM shares s WHERE s.area > 0 AND s.covered / s.area < %(gap_share)s
)
SELECT g.code AS fid,
       coalesce(ST_Multi(ST_CollectionExtract(ST_Difference(g.geom, (
           SELECT ST_Union(p.geom) FROM pieces p WHERE p.minutes = g.minutes AND p.geom && g.geom)), 3)), g.geom) AS geom,
       g.code AS cell_code, g.name, %(kind)s::text AS kind, g.minutes::int AS minutes,
       g.population::int AS residents, round(g.share::numeric, 4)::float8 AS share,
       round((g.population * (1 - g.share))::numeric, 1)::float8 AS gap_population
FROM gaps g
