-- The region's time zone, for reading date-only Open311 filters as local calendar days.
SELECT timezone FROM region WHERE region_code = %(region_code)s
