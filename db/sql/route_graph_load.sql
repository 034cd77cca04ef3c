-- A region's whole road network for the in-memory routing graph (data/routing/graph.py), with the
-- network's version read in the same snapshot.
SELECT n.version, e.id, e.source, e.target, e.cost, e.reverse_cost, e.length_m, e.name, e.road_class,
       ST_AsBinary(e.geom)
FROM road_edge e
LEFT JOIN road_network n ON n.region_code = e.region_code
WHERE e.region_code = %(region)s
ORDER BY e.id
