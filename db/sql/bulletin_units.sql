-- The units a scheduled run writes bulletins for: the banner (level 1) and its towns (level 2).
SELECT code FROM grid_unit WHERE region_code = %(region_code)s AND level <= 2 ORDER BY level, code
