-- Add or update a person by their client UUID (ID number and phone go through
-- reg_person_secret_set, never into this table in clear).
INSERT INTO reg_person (uid, region_code, household_id, cell_code, name, sex, birth_date, ethnicity, residence,
                        registered_address, relation, moved_out_at, updated_at)
VALUES (%(uid)s, %(region_code)s, %(household_id)s, %(cell_code)s, %(name)s, %(sex)s, %(birth_date)s,
        %(ethnicity)s, %(residence)s, %(registered_address)s, %(relation)s, %(moved_out_at)s, now())
ON CONFLICT (uid) DO UPDATE
   SET household_id = excluded.household_id, cell_code = excluded.cell_code, name = excluded.name,
       sex = excluded.sex, birth_date = excluded.birth_date, ethnicity = excluded.ethnicity,
       residence = excluded.residence, registered_address = excluded.registered_address,
       relation = excluded.relation, moved_out_at = excluded.moved_out_at, updated_at = now()
 WHERE reg_person.region_code = excluded.region_code AND NOT reg_person.anonymised
RETURNING id, cell_code, (xmax = 0) AS created
