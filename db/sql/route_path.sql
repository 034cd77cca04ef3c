-- One shortest path by travel time, piece by piece in driving order: each piece's road, length,
-- seconds and geometry turned to the direction of travel.
WITH r AS (
    SELECT * FROM pgr_dijkstra(%(edges_sql)s, %(start)s::bigint, %(end)s::bigint, directed => true)
), p AS (
    SELECT * FROM route_pieces(%(snaps)s::json)
)
SELECT r.seq, e.id, e.name, e.road_class, r.cost, coalesce(p.length_m, e.length_m),
       ST_AsGeoJSON(CASE WHEN r.node = coalesce(p.source, e.source) THEN g.geom
                         ELSE ST_Reverse(g.geom) END, 7)
FROM r
LEFT JOIN p ON p.id = r.edge
JOIN road_edge e ON e.id = coalesce(p.edge_id, r.edge)
CROSS JOIN LATERAL (SELECT CASE WHEN p.id IS NULL THEN e.geom
                                ELSE ST_LineSubstring(e.geom, p.f0, p.f1) END AS geom) g
WHERE r.edge <> -1
ORDER BY r.seq
