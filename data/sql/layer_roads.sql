-- Road links with their class and speed.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', id,
    'geometry', ST_AsGeoJSON(geom, 6)::json,
    'properties', json_build_object('road_class', road_class, 'name', name, 'speed_kmh', speed_kmh,
                                    'length_m', round(length_m::numeric))
) ORDER BY id), '[]'::json))::text
FROM road_edge WHERE region_code = %(region_code)s
