-- Road links with their class and speed, those that touch the caller's jurisdiction.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', id,
    'geometry', ST_AsGeoJSON(geom, 6)::json,
    'properties', json_build_object('road_class', road_class, 'name', name, 'speed_kmh', speed_kmh,
                                    'length_m', round(length_m::numeric))
) ORDER BY id), '[]'::json))::text
FROM road_edge e
WHERE e.region_code = %(region_code)s
  AND (%(scope)s = %(region_code)s OR EXISTS (
        SELECT 1 FROM grid_unit u WHERE u.code = %(scope)s AND ST_Intersects(u.geom, e.geom)))
