-- Add or update a public-order place by its client UUID; (id, cell_code, created).
INSERT INTO reg_place (uid, region_code, cell_code, kind, name, org_id, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(cell_code)s, %(kind)s, %(name)s, %(org_id)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, kind = excluded.kind, name = excluded.name, org_id = excluded.org_id,
       geom = excluded.geom, updated_at = now()
 WHERE reg_place.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
