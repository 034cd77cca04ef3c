-- Grid units of one level as a GeoJSON FeatureCollection, with their people: only the caller's
-- jurisdiction (units under the scope code) and its ancestors (the outline it sits in).
-- Geometry simplified to about 10 m: the map needs no more, and payloads stay small.
WITH units AS (
    SELECT u.code, u.name, u.name_en, u.level, u.parent_code, u.synthetic, u.geom,
           (SELECT coalesce(sum(p.population), 0) FROM cell_population p
             WHERE p.region_code = u.region_code AND p.cell_code LIKE u.code || '%%') AS population,
           (SELECT coalesce(sum(p.households), 0) FROM cell_population p
             WHERE p.region_code = u.region_code AND p.cell_code LIKE u.code || '%%') AS households
    FROM grid_unit u
    WHERE u.region_code = %(region_code)s AND u.level = %(level)s
      AND (u.code LIKE %(scope)s || '%%' OR %(scope)s LIKE u.code || '%%')
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', code,
    'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 6)::json,
    'properties', json_build_object(
        'code', code, 'name', name, 'name_en', name_en, 'level', level, 'parent_code', parent_code,
        'synthetic', synthetic, 'population', population, 'households', households,
        'area_km2', round((area_m2(geom) / 1e6)::numeric, 2),
        'density', round((population / nullif(area_m2(geom) / 1e6, 0))::numeric, 2),
        'label_lon', ST_X(ST_PointOnSurface(geom)), 'label_lat', ST_Y(ST_PointOnSurface(geom)))
) ORDER BY code), '[]'::json))::text
FROM units
