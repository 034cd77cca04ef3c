-- From each demand point backwards (edges reversed) within limit_s: the junctions that could
-- reach it, and in how many seconds. Junctions only (the candidate sites), inside the scope.
WITH dd AS (
    SELECT from_v, node, agg_cost
    FROM pgr_drivingDistance(%(edges_sql)s, %(starts)s::bigint[], %(limit_s)s::float8, true, false)
)
SELECT dd.from_v, dd.node, dd.agg_cost, ST_X(v.geom), ST_Y(v.geom)
FROM dd JOIN road_vertex v ON v.id = dd.node
WHERE v.region_code = %(region)s
  AND (%(scope)s = %(region)s OR EXISTS (
        SELECT 1 FROM grid_unit u WHERE u.code = %(scope)s AND ST_Intersects(u.geom, v.geom)))
