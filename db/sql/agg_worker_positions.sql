-- Each worker's latest GPS fix since a time, for workers assigned under the scope (codes only:
-- names and phones stay off the map).
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', w.code,
    'geometry', ST_AsGeoJSON(p.geom, 6)::json,
    'properties', json_build_object('worker', w.code, 'unit_code', w.unit_code, 'at', p.at,
                                    'accuracy_m', p.accuracy_m))), '[]'::json))::text
FROM grid_worker w
JOIN LATERAL (SELECT geom, at, accuracy_m FROM worker_position
              WHERE worker_id = w.id AND at >= %(since)s AND at <= %(now)s ORDER BY at DESC LIMIT 1) p ON true
WHERE w.region_code = %(region_code)s AND w.unit_code LIKE %(scope)s || '%%' AND w.active
