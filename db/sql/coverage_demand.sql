-- Where the uncovered residents of the given cells are: the uncovered part of each cell cut by a
-- square grid, one point per piece, weighted by the residents of the piece (uniform over the cell).
WITH g AS (
    SELECT * FROM unnest(%(codes)s::text[], %(minutes)s::int[], %(pops)s::float8[]) AS g(code, minutes, pop)
), pieces AS MATERIALIZED (
    SELECT ST_Subdivide(i.geom, 128) AS geom FROM isochrone i
    WHERE i.region_code = %(region)s AND i.kind = %(kind)s AND i.minutes = %(iso_minutes)s
      AND i.geom IS NOT NULL
), u AS MATERIALIZED (
    SELECT g.code, g.minutes, g.pop, area_m2(c.geom) AS cell_area,
           coalesce(ST_Difference(c.geom, (SELECT ST_Union(p.geom) FROM pieces p WHERE p.geom && c.geom)),
                    c.geom) AS open
    FROM g JOIN grid_unit c ON c.code = g.code
), cut AS MATERIALIZED (
    SELECT u.code, u.minutes, u.pop, u.cell_area, ST_Intersection(u.open, sq.geom) AS piece
    FROM u CROSS JOIN LATERAL ST_SquareGrid(%(step_deg)s, u.open) sq
    WHERE sq.geom && u.open
)
SELECT code, minutes, ST_X(pt), ST_Y(pt), pop * area_m2(piece) / nullif(cell_area, 0)
FROM cut CROSS JOIN LATERAL ST_PointOnSurface(piece) pt
WHERE NOT ST_IsEmpty(piece) AND area_m2(piece) > 0
ORDER BY code, ST_X(pt), ST_Y(pt)
