-- The field app's map: grid cells as GeoJSON (outlines only, no statistics or people) — a grid
-- worker's own cell and the cells that touch it; for a wider jurisdiction, its cells.
-- Geometry simplified to about 5 m, enough for a phone and light to keep offline.
WITH mine AS (
    SELECT geom FROM grid_unit WHERE code = %(unit_code)s AND region_code = %(region_code)s
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(u.geom, 0.00005), 6)::json,
    'properties', json_build_object('code', u.code, 'name', u.name, 'name_en', u.name_en,
                                    'own', u.code = %(unit_code)s)) ORDER BY u.code), '[]'::json))
FROM grid_unit u
WHERE u.region_code = %(region_code)s AND u.level = 4
  AND (u.code LIKE %(unit_code)s || '%%'
       OR (%(neighbours)s AND EXISTS (SELECT 1 FROM mine m WHERE ST_Intersects(u.geom, m.geom))))
