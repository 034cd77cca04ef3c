-- Facilities in the caller's jurisdiction, and (for banner-wide scopes) department bases.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f ORDER BY f->>'id'), '[]'::json))::text
FROM (
    SELECT json_build_object('type', 'Feature', 'id', 'f' || id,
        'geometry', ST_AsGeoJSON(geom, 6)::json,
        'properties', json_build_object('kind', kind, 'name', name, 'name_en', name_en, 'unit_code', unit_code)) AS f
    FROM facility WHERE region_code = %(region_code)s AND unit_code LIKE %(scope)s || '%%'
    UNION ALL
    SELECT json_build_object('type', 'Feature', 'id', 'd' || code,
        'geometry', ST_AsGeoJSON(base_geom, 6)::json,
        'properties', json_build_object('kind', 'department_base', 'name', name, 'name_en', name_en, 'unit_code', NULL))
    FROM department WHERE region_code = %(region_code)s AND base_geom IS NOT NULL
      AND %(scope)s = %(region_code)s
) s
