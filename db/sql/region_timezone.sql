-- The region's time zone (IANA name): every surface shows local times and local days in it.
SELECT timezone FROM region WHERE region_code = %(region_code)s
