-- People under a scope (optionally of one household, or with one ID number by its keyed hash),
-- with their special-group kinds; the caller masks what the role may not see (data/registry.py).
SELECT p.id, p.uid::text, p.name, p.sex, p.birth_date::text, p.ethnicity, p.residence, p.registered_address,
       p.relation, p.cell_code, p.household_id, hh.uid::text AS household_uid, p.id_masked, p.phone_masked,
       p.moved_out_at::text, p.anonymised, p.synthetic,
       coalesce((SELECT array_agg(g.kind ORDER BY g.kind) FROM reg_special_group g
                 WHERE g.person_id = p.id AND g.ended_on IS NULL), '{}') AS special_groups
FROM reg_person p LEFT JOIN reg_household hh ON hh.id = p.household_id
WHERE p.region_code = %(region_code)s AND p.cell_code LIKE %(scope)s || '%%'
  AND (%(person_id)s::bigint IS NULL OR p.id = %(person_id)s)
  AND (%(household_id)s::bigint IS NULL OR p.household_id = %(household_id)s)
  AND (%(id_number)s::text IS NULL OR p.id_hash = reg_id_hash(%(region_code)s, %(id_number)s))
  AND (%(include_moved)s OR p.moved_out_at IS NULL)
ORDER BY p.cell_code, p.household_id NULLS LAST, p.id
LIMIT %(limit)s OFFSET %(offset)s
