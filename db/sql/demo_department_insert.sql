INSERT INTO department (code, region_code, kind, name, name_en, base_geom, synthetic) VALUES %s
