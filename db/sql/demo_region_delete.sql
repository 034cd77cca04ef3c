DELETE FROM region WHERE region_code = %(region_code)s
