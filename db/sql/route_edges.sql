-- The edge query pgRouting runs (bound into text with the driver's quoting, since pgRouting takes
-- SQL as a string): the region's edges inside the bbox (all when it is NULL) with snapped edges
-- split at the route ends, plus virtual links.
SELECT id, source, target, cost, reverse_cost
FROM route_graph(%(region)s, ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326),
                 %(snaps)s::json, %(links)s::json, %(reverse)s)
