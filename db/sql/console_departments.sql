-- The region's departments for the console's dispatch list and filter; with a category, the one
-- its incidents go to by default (incident_category.department_kind) is marked suggested.
SELECT d.code, d.name, d.name_en, coalesce(d.kind = c.department_kind, false) AS suggested
FROM department d
LEFT JOIN incident_category c ON c.code = %(category)s::text
WHERE d.region_code = %(region_code)s
ORDER BY suggested DESC, d.name
