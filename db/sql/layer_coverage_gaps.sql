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
), reached AS (
    SELECT c.*, area_m2(c.geom) AS area,
           (SELECT ST_Union(p.geom) FROM pieces p WHERE p.minutes = c.minutes AND p.geom && c.geom) AS reach
    FROM cells c
), shares AS (
    SELECT r.*, least(1.0, coalesce(area_m2(ST_Intersection(r.geom, r.reach)), 0) / nullif(r.area, 0)) AS share
    FROM reached r
)
SELECT s.code AS fid,
       coalesce(ST_Multi(ST_CollectionExtract(ST_Difference(s.geom, s.reach), 3)), s.geom) AS geom,
       s.code AS cell_code, s.name, %(kind)s::text AS kind, s.minutes::int AS minutes,
       s.population::int AS residents, round(s.share::numeric, 4)::float8 AS share,
       round((s.population * (1 - s.share))::numeric, 1)::float8 AS gap_population
FROM shares s
WHERE s.area > 0 AND s.share < %(gap_share)s
