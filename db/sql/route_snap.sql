-- Snap points onto the nearest point of the nearest road edge of a region (mid-edge, not the
-- nearest vertex). The index narrows to the 8 nearest in degrees; the geodesic distance decides,
-- because a degree of longitude is shorter than one of latitude away from the equator.
SELECT pt.i, s.edge, s.frac, s.dist_m, ST_X(s.snapped), ST_Y(s.snapped)
FROM unnest(%(lons)s::float8[], %(lats)s::float8[]) WITH ORDINALITY AS pt(lon, lat, i)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(pt.lon, pt.lat), 4326) AS g) p
LEFT JOIN LATERAL (
    SELECT c.id AS edge, ST_LineLocatePoint(c.geom, p.g) AS frac,
           ST_Distance(c.geom::geography, p.g::geography) AS dist_m,
           ST_ClosestPoint(c.geom, p.g) AS snapped
    FROM (SELECT e.id, e.geom FROM road_edge e
          WHERE e.region_code = %(region)s
          ORDER BY e.geom <-> p.g LIMIT 8) c
    ORDER BY dist_m, c.id LIMIT 1) s ON true
ORDER BY pt.i
