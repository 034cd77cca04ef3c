SELECT count(*) > 0 FROM grid_unit WHERE region_code = %(region_code)s
