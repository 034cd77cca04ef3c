-- A mediation station of the region, by id.
SELECT id, name, name_en FROM facility
WHERE id = %(id)s AND region_code = %(region_code)s AND kind = 'mediation_station'
