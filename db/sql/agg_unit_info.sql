-- A unit's name, level and bounds, if it lies in the caller's jurisdiction.
SELECT code, name, name_en, level, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
FROM grid_unit WHERE code = %(unit)s AND region_code = %(region_code)s
