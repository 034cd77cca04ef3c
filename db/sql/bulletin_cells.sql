-- The level-4 cells under a unit, simplified for a printed map, as GeoJSON geometries.
SELECT code, name, name_en, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0004), 5)
FROM grid_unit
WHERE region_code = %(region_code)s AND level = 4 AND code LIKE %(scope)s || '%%'
ORDER BY code
