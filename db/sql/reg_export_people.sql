-- The people registry of a scope, for the xlsx export: ID numbers and phones masked (the clear
-- values are not readable here), anonymised records left out.
SELECT p.uid::text, hh.uid::text AS household, p.cell_code, p.name, p.id_masked AS id_number, p.sex,
       p.birth_date::text, p.ethnicity, p.residence, p.registered_address, p.relation,
       p.phone_masked AS phone, p.moved_out_at::date::text AS moved_out_at
FROM reg_person p LEFT JOIN reg_household hh ON hh.id = p.household_id
WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%' AND NOT p.anonymised
ORDER BY p.cell_code, p.household_id, p.id
