-- One imported unit, replacing the stored one with the same code (children and links stay).
INSERT INTO grid_unit (code, region_code, level, parent_code, name, geom, synthetic, provenance)
VALUES (%(code)s, %(region_code)s, %(level)s, %(parent_code)s, %(name)s,
        ST_GeomFromWKB(%(wkb)s, 4326), false, %(provenance)s)
ON CONFLICT (code) DO UPDATE SET
    region_code = EXCLUDED.region_code,
    level       = EXCLUDED.level,
    parent_code = EXCLUDED.parent_code,
    name        = EXCLUDED.name,
    geom        = EXCLUDED.geom,
    synthetic   = false,
    provenance  = EXCLUDED.provenance
