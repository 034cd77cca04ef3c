INSERT INTO grid_unit (code, region_code, level, parent_code, name, name_en, geom, synthetic, provenance)
VALUES %s
