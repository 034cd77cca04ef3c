-- A layer as the map's GeoJSON FeatureCollection text, built in PostGIS from the same rows the
-- exports and the OGC API read; the geometry may be simplified (the map needs ~10 m).
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', m.fid,
    'geometry', ST_AsGeoJSON({geom}, 6)::json,
    'properties', to_jsonb(m) - 'fid' - 'geom') ORDER BY m.fid), '[]'::json))::text
FROM (
{rows}
) m
