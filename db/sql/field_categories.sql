-- Incident categories with the department of the caller's region that handles each (by kind).
SELECT c.code, c.name, c.name_en, c.department_kind, d.code AS department_code,
       d.name AS department_name, d.name_en AS department_name_en
FROM incident_category c
LEFT JOIN department d ON d.kind = c.department_kind AND d.region_code = %(region_code)s
ORDER BY c.sort_order, c.code
