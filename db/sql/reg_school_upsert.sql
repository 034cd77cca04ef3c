-- Add or update a school by its client UUID; (id, cell_code, created).
INSERT INTO reg_school (uid, region_code, cell_code, name, stage, students, surroundings, geom, updated_at)
VALUES (%(uid)s, %(region_code)s, %(cell_code)s, %(name)s, %(stage)s, %(students)s, %(surroundings)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), now())
ON CONFLICT (uid) DO UPDATE
   SET cell_code = excluded.cell_code, name = excluded.name, stage = excluded.stage, students = excluded.students,
       surroundings = excluded.surroundings, geom = excluded.geom, updated_at = now()
 WHERE reg_school.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
