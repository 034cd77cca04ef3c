-- Patrol coverage (the map's patrol layer, exports, OGC): each level-4 cell under the scope and
-- whether a grid worker's GPS fix fell inside it in the %(patrol_days)s days up to now, as the
-- API's patrol coverage counts it (patrol_coverage.sql). Positions themselves are not shown.
WITH fixes AS (
    SELECT DISTINCT grid_cell_at(p.region_code, p.geom) AS cell_code
    FROM worker_position p
    WHERE p.region_code = %(region_code)s AND p.at <= %(now)s
      AND p.at >= %(now)s - make_interval(days => %(patrol_days)s)
)
SELECT u.code AS fid, u.geom, u.code AS cell_code, u.name, (f.cell_code IS NOT NULL) AS patrolled,
       %(patrol_days)s::int AS days
FROM grid_unit u LEFT JOIN fixes f ON f.cell_code = u.code
WHERE u.region_code = %(region_code)s AND u.level = 4 AND u.code LIKE %(scope)s || '%%'
