-- One isochrone as a GeoJSON Feature, clipped to the caller's jurisdiction unless that is the region.
SELECT json_build_object('type', 'Feature',
    'geometry', ST_AsGeoJSON(CASE WHEN %(scope)s = i.region_code THEN i.geom
                                  ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(i.geom, u.geom), 3)) END, 6)::json,
    'properties', json_build_object('kind', i.kind, 'minutes', i.minutes, 'facilities', i.facilities,
        'built_at', i.built_at, 'source_hash', i.source_hash, 'scope', %(scope)s,
        'area_km2', round((coalesce(area_m2(CASE WHEN %(scope)s = i.region_code THEN i.geom
                                              ELSE ST_Intersection(i.geom, u.geom) END), 0) / 1e6)::numeric, 2))
)::text
FROM isochrone i LEFT JOIN grid_unit u ON u.code = %(scope)s
WHERE i.region_code = %(region)s AND i.kind = %(kind)s AND i.minutes = %(minutes)s
