INSERT INTO facility (region_code, kind, name, name_en, unit_code, geom, synthetic) VALUES %s
