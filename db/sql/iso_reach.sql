-- Every edge (or piece of a snapped edge) touched by the reach within limit_s seconds of the
-- virtual super-source -1 (linked to each facility by its off-road access time), with the time at
-- which each end is reached (NULL: not reached) and its geometry in lon/lat.
WITH dd AS (
    SELECT node, agg_cost FROM pgr_drivingDistance(%(edges_sql)s, -1::bigint, %(limit_s)s::float8, true)
), g AS (
    SELECT * FROM route_graph(%(region)s, NULL, %(snaps)s::json, '[]'::json, false)
), p AS (
    SELECT * FROM route_pieces(%(snaps)s::json)
)
SELECT g.cost, g.reverse_cost, cs.agg_cost, ct.agg_cost,
       ST_AsBinary(CASE WHEN p.id IS NULL THEN e.geom ELSE ST_LineSubstring(e.geom, p.f0, p.f1) END)
FROM g
LEFT JOIN dd cs ON cs.node = g.source
LEFT JOIN dd ct ON ct.node = g.target
LEFT JOIN p ON p.id = g.id
JOIN road_edge e ON e.id = coalesce(p.edge_id, g.id)
WHERE cs.node IS NOT NULL OR ct.node IS NOT NULL
