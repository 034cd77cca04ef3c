-- Store (or replace) one isochrone.
INSERT INTO isochrone (region_code, kind, minutes, geom, facilities, source_hash, built_at)
VALUES (%(region)s, %(kind)s, %(minutes)s,
        ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326)), 3)),
        %(facilities)s, %(hash)s, now())
ON CONFLICT (region_code, kind, minutes) DO UPDATE
SET geom = EXCLUDED.geom, facilities = EXCLUDED.facilities, source_hash = EXCLUDED.source_hash,
    built_at = EXCLUDED.built_at
