INSERT INTO grid_worker (region_code, code, name, phone, unit_code, synthetic) VALUES %s RETURNING id
