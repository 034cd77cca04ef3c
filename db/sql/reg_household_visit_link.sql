-- Link a stored field visit to a household, with the visit's flags (a retry links once).
INSERT INTO reg_household_visit (visit_id, region_code, household_id, flags)
VALUES (%(visit_id)s, %(region_code)s, %(household_id)s, %(flags)s)
ON CONFLICT (visit_id) DO NOTHING
