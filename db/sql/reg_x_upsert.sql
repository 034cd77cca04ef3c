-- Add or update a record of a local type by its client UUID.
INSERT INTO reg_extension_record (uid, region_code, kind_code, cell_code, data, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(kind)s, %(cell_code)s, %(data)s::jsonb,
        CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END, now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, data = excluded.data, geom = excluded.geom, updated_at = now()
 WHERE reg_extension_record.region_code = excluded.region_code AND reg_extension_record.kind_code = excluded.kind_code
RETURNING id, cell_code, (xmax = 0) AS created
