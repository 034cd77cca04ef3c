-- A grid worker by roster code (grid worker accounts).
SELECT id, code, region_code, unit_code, name FROM grid_worker WHERE code = %(code)s
