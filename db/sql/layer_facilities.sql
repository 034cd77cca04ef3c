-- Facilities in the jurisdiction, and (for banner-wide scopes) the departments' bases.
SELECT 'f' || f.id AS fid, f.geom, f.kind, f.name, f.name_en, f.unit_code
FROM facility f WHERE f.region_code = %(region_code)s AND f.unit_code LIKE %(scope)s || '%%'
UNION ALL
SELECT 'd' || d.code, d.base_geom, 'department_base', d.name, d.name_en, NULL
FROM department d WHERE d.region_code = %(region_code)s AND d.base_geom IS NOT NULL
  AND %(scope)s = %(region_code)s
