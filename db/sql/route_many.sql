-- Many origins to one destination in one pgr_dijkstra call: seconds and metres per origin.
WITH r AS (
    SELECT * FROM pgr_dijkstra(%(edges_sql)s, %(starts)s::bigint[], %(end)s::bigint, directed => true)
), p AS (
    SELECT * FROM route_pieces(%(snaps)s::json)
)
SELECT r.start_vid, sum(r.cost), sum(coalesce(p.length_m, e.length_m, 0))
FROM r
LEFT JOIN p ON p.id = r.edge
LEFT JOIN road_edge e ON e.id = r.edge
WHERE r.edge <> -1
GROUP BY r.start_vid
