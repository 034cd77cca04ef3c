-- One imported unit; a code already stored fails on the primary key (no silent overwrite).
INSERT INTO grid_unit (code, region_code, level, parent_code, name, geom, synthetic, provenance)
VALUES (%(code)s, %(region_code)s, %(level)s, %(parent_code)s, %(name)s,
        ST_GeomFromWKB(%(wkb)s, 4326), false, %(provenance)s)
