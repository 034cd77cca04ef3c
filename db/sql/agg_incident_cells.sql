-- Incidents summed per level-4 cell for the low-zoom map: reports in the time range (roll-up),
-- open and overdue now (partial index on open incidents). One feature per cell at most.
WITH cells AS (
    SELECT code, name, geom FROM grid_unit
    WHERE region_code = %(region_code)s AND level = 4 AND code LIKE %(scope)s || '%%'
), reported AS (
    SELECT cell_code, sum(n) AS n FROM incident_rollup
    WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
    GROUP BY cell_code
), open AS (
    SELECT cell_code, count(*) AS open,
           count(*) FILTER (WHERE due_at < %(now)s) AS overdue
    FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
      AND state NOT IN ('closed', 'rejected')
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
      AND (%(level)s::smallint IS NULL OR handling_level = %(level)s)
    GROUP BY cell_code
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', c.code,
    'geometry', ST_AsGeoJSON(ST_PointOnSurface(c.geom), 6)::json,
    'properties', json_build_object('cluster', true, 'cell_code', c.code, 'name', c.name,
        'count', coalesce(r.n, 0), 'open', coalesce(o.open, 0), 'overdue', coalesce(o.overdue, 0)))
    ORDER BY c.code), '[]'::json))::text
FROM cells c LEFT JOIN reported r ON r.cell_code = c.code LEFT JOIN open o ON o.cell_code = c.code
WHERE coalesce(r.n, 0) + coalesce(o.open, 0) > 0
