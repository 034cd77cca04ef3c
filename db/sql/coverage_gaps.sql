-- The uncovered part of each given cell (codes with the minutes that apply to each), as GeoJSON.
-- The isochrones are cut into small pieces once, so each cell meets only the pieces it touches.
WITH g AS (
    SELECT * FROM unnest(%(codes)s::text[], %(minutes)s::int[]) AS g(code, minutes)
), pieces AS MATERIALIZED (
    SELECT i.minutes, ST_Subdivide(i.geom, 128) AS geom FROM isochrone i
    WHERE i.region_code = %(region)s AND i.kind = %(kind)s AND i.geom IS NOT NULL
)
SELECT g.code, ST_AsGeoJSON(coalesce(
    ST_Multi(ST_CollectionExtract(ST_Difference(c.geom, (
        SELECT ST_Union(p.geom) FROM pieces p WHERE p.minutes = g.minutes AND p.geom && c.geom)), 3)),
    c.geom), 6)
FROM g JOIN grid_unit c ON c.code = g.code
ORDER BY g.code
