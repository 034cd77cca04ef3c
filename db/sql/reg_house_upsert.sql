-- Add or update a house by its client UUID (idempotent); the database decides the cell from the
-- point. Returns id, cell_code and whether it was created.
INSERT INTO reg_house (uid, region_code, cell_code, address, use, floors, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(cell_code)s, %(address)s, %(use)s, %(floors)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, address = excluded.address, use = excluded.use, floors = excluded.floors,
       geom = excluded.geom, updated_at = now()
 WHERE reg_house.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
