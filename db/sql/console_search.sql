-- Search for the console and the leaders' page (data.console.search): an incident by its number
-- (a prefix of its id), a place by name (grid unit, facility) or an address (a named road), within
-- the caller's jurisdiction (domain.policy.row_params: incidents by the row rule, places inside the
-- jurisdiction unit's area). Person-free: no description, reporter or worker is searched.
-- Each row: kind, ref, name, name_en, detail code, point and bounds (lon/lat, EPSG:4326).
WITH q AS (SELECT lower(%(q)s::text) AS q),
scope_geom AS (SELECT geom FROM grid_unit WHERE code = %(scope)s AND region_code = %(region_code)s),
hits AS (
    (SELECT 1 AS rank, 'incident' AS kind, i.id::text AS ref, c.name AS name, c.name_en AS name_en,
            i.cell_code::text AS detail, i.geom AS geom
     FROM incident i JOIN incident_category c ON c.code = i.category_code, q
     WHERE i.region_code = %(region_code)s AND length(q.q) >= 4 AND i.id::text LIKE q.q || '%%'
       AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
            OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
     ORDER BY i.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 2, 'unit', g.code::text, g.name, g.name_en, g.level::text, g.geom
     FROM grid_unit g, q
     WHERE g.region_code = %(region_code)s AND g.code LIKE %(scope)s || '%%'
       AND (strpos(lower(g.name), q.q) > 0 OR strpos(lower(coalesce(g.name_en, '')), q.q) > 0)
     ORDER BY g.level, char_length(g.name), g.code LIMIT %(limit)s)
    UNION ALL
    (SELECT 3, 'facility', f.id::text, f.name, f.name_en, f.kind, f.geom
     FROM facility f, q, scope_geom s
     WHERE f.region_code = %(region_code)s AND ST_Intersects(f.geom, s.geom)
       AND (strpos(lower(f.name), q.q) > 0 OR strpos(lower(coalesce(f.name_en, '')), q.q) > 0)
     ORDER BY char_length(f.name), f.id LIMIT %(limit)s)
    UNION ALL
    (SELECT 4, 'road', r.name, r.name, NULL, NULL, ST_Collect(r.geom)
     FROM road_edge r, q, scope_geom s
     WHERE r.region_code = %(region_code)s AND r.name IS NOT NULL AND strpos(lower(r.name), q.q) > 0
       AND ST_Intersects(r.geom, s.geom)
     GROUP BY r.name ORDER BY char_length(r.name), r.name LIMIT %(limit)s)
)
SELECT kind, ref, name, name_en, detail,
       ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)),
       ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
FROM hits
ORDER BY rank
LIMIT %(limit)s
