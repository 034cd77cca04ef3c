-- A department by code (department staff check).
SELECT code, region_code, name FROM department WHERE code = %(code)s
