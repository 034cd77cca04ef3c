-- Road links with their class and speed, those that touch the jurisdiction.
SELECT e.id::text AS fid, e.geom, e.id AS id, e.road_class, e.name, e.speed_kmh::float8 AS speed_kmh,
       round(e.length_m::numeric)::float8 AS length_m
FROM road_edge e
WHERE e.region_code = %(region_code)s
  AND (%(scope)s = %(region_code)s OR EXISTS (
        SELECT 1 FROM grid_unit u WHERE u.code = %(scope)s AND ST_Intersects(u.geom, e.geom)))
