-- Add or update an organisation by its client UUID; (id, cell_code, created).
INSERT INTO reg_org (uid, region_code, cell_code, kind, name, credit_code, address, staff_count, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(cell_code)s, %(kind)s, %(name)s, %(credit_code)s, %(address)s, %(staff_count)s,
        CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END, now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, kind = excluded.kind, name = excluded.name, credit_code = excluded.credit_code,
       address = excluded.address, staff_count = excluded.staff_count, geom = excluded.geom, updated_at = now()
 WHERE reg_org.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
