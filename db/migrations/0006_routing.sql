-- 0006 routing: the graph pgRouting reads for one route (edges split where the ends snap), and the
-- cache of service-reach isochrones.
--
-- Virtual vertices and edges are negative ids; real junction ids are positive (adcode * 10^7 + n),
-- so the two never meet.

CREATE INDEX IF NOT EXISTS road_edge_region_idx ON road_edge (region_code);
CREATE INDEX IF NOT EXISTS road_vertex_region_idx ON road_vertex (region_code);

-- The pieces of the edges that route ends were snapped onto. p_snaps is a JSON array of
-- {"vid": <negative vertex id>, "edge": <road_edge id>, "frac": <0..1 along the edge>}; an edge
-- with k snapped points becomes k + 1 pieces joined at those vertices, each with its share of the
-- edge's costs (one-way edges stay one-way: reverse_cost < 0 is kept as -1). Piece ids are
-- -2, -3, … in (edge, frac, vid) order (-1 is pgRouting's end-of-path marker), so a caller can join a path back to its piece.
CREATE FUNCTION route_pieces(p_snaps json)
RETURNS TABLE (id bigint, edge_id bigint, source bigint, target bigint, cost double precision,
               reverse_cost double precision, f0 double precision, f1 double precision,
               length_m double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH snap AS (
        SELECT s.vid, s.edge, least(greatest(s.frac, 0), 1) AS frac
        FROM json_to_recordset(p_snaps) AS s(vid bigint, edge bigint, frac double precision)
    ), brk AS (  -- each edge's breakpoints: its two ends and the snapped points between them
        SELECT e.id AS edge, 0::double precision AS frac, e.source AS vid, 0 AS ord
        FROM road_edge e WHERE e.id IN (SELECT edge FROM snap)
        UNION ALL
        SELECT edge, frac, vid, 1 FROM snap
        UNION ALL
        SELECT e.id, 1, e.target, 2 FROM road_edge e WHERE e.id IN (SELECT edge FROM snap)
    ), seq AS (
        SELECT edge, frac AS f1, vid AS v1, ord,
               lag(frac) OVER w AS f0, lag(vid) OVER w AS v0
        FROM brk WINDOW w AS (PARTITION BY edge ORDER BY frac, ord, vid DESC)
    )
    SELECT -1 - row_number() OVER (ORDER BY s.edge, s.f1, s.ord, s.v1 DESC)::bigint, s.edge, s.v0, s.v1,
           e.cost * (s.f1 - s.f0),
           CASE WHEN e.reverse_cost < 0 THEN -1 ELSE e.reverse_cost * (s.f1 - s.f0) END,
           s.f0, s.f1, e.length_m * (s.f1 - s.f0)
    FROM seq s JOIN road_edge e ON e.id = s.edge
    WHERE s.f0 IS NOT NULL
$$;

-- The edges of one routing query: the region's edges inside p_bbox (all of them when NULL) except
-- those split by snapped points, the pieces of those, and extra virtual links (p_links: JSON array
-- of {"id", "source", "target", "cost"}, one-way, e.g. an off-road access leg). p_reverse swaps
-- the directions, for "who can reach this point" questions asked from the point.
CREATE FUNCTION route_graph(p_region char(6), p_bbox geometry, p_snaps json, p_links json,
                            p_reverse boolean DEFAULT false)
RETURNS TABLE (id bigint, source bigint, target bigint, cost double precision,
               reverse_cost double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH g AS (
        SELECT e.id, e.source, e.target, e.cost, e.reverse_cost
        FROM road_edge e
        LEFT JOIN (SELECT DISTINCT s.edge FROM json_to_recordset(p_snaps) AS s(edge bigint)) split
               ON split.edge = e.id  -- an anti-join the planner can hash: thousands of snaps stay cheap
        WHERE e.region_code = p_region
          AND (p_bbox IS NULL OR e.geom && p_bbox)
          AND split.edge IS NULL
        UNION ALL
        SELECT p.id, p.source, p.target, p.cost, p.reverse_cost FROM route_pieces(p_snaps) p
        UNION ALL
        SELECT l.id, l.source, l.target, l.cost, -1
        FROM json_to_recordset(coalesce(p_links, '[]')) AS l(id bigint, source bigint, target bigint,
                                                                cost double precision)
    )
    SELECT id, source, target,
           CASE WHEN p_reverse THEN reverse_cost ELSE cost END,
           CASE WHEN p_reverse THEN cost ELSE reverse_cost END
    FROM g
$$;

-- Service-reach polygons, one per region, facility kind and minutes: the union of what every
-- facility of the kind reaches. source_hash digests the network and the facilities it was built
-- from; a reader that finds a different digest rebuilds (see data.routing.reach).
CREATE TABLE isochrone (
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    kind         text NOT NULL,
    minutes      smallint NOT NULL CHECK (minutes > 0),
    geom         geometry(MultiPolygon, 4326),
    facilities   integer NOT NULL,
    source_hash  text NOT NULL,
    built_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region_code, kind, minutes)
);
