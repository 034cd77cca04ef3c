-- A grid unit by code (jurisdiction check).
SELECT code, region_code, level, name FROM grid_unit WHERE code = %(code)s
