-- Add or update a house by its client UUID (idempotent); the database decides the cell from the
-- point. A footprint of NULL leaves the stored one (unless footprint_clear). Returns id, cell_code
-- and whether it was created.
INSERT INTO reg_house (uid, region_code, cell_code, address, use, floors, geom, footprint, updated_at)
VALUES (%(uid)s, %(region_code)s, %(cell_code)s, %(address)s, %(use)s, %(floors)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), ST_GeomFromText(%(footprint)s, 4326), now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, address = excluded.address, use = excluded.use, floors = excluded.floors,
       geom = excluded.geom,
       footprint = CASE WHEN %(footprint_clear)s THEN NULL ELSE coalesce(excluded.footprint, reg_house.footprint) END,
       updated_at = now()
 WHERE reg_house.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
