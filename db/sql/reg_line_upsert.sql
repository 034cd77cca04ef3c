-- Add or update a protected line by its client UUID (a geometry of NULL keeps the stored one);
-- (id, responsible unit, created).
INSERT INTO reg_line (uid, region_code, unit_code, kind, name, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(unit_code)s, %(kind)s, %(name)s, ST_GeomFromText(%(wkt)s, 4326), now())
ON CONFLICT (uid) DO UPDATE
   SET unit_code = excluded.unit_code, kind = excluded.kind, name = excluded.name,
       geom = coalesce(excluded.geom, reg_line.geom), updated_at = now()
 WHERE reg_line.region_code = excluded.region_code
RETURNING id, unit_code, (xmax = 0) AS created
