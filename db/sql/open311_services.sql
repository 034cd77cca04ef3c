-- Incident categories as Open311 services (all of them, or the one whose code is given).
SELECT code, name, name_en, gbt31000_domain, department_kind
FROM incident_category
WHERE %(code)s::text IS NULL OR code = %(code)s
ORDER BY sort_order, code
