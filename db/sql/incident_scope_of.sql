-- What the permission checks need to know about an incident.
SELECT cell_code, department_code, reporter_id, state FROM incident WHERE id = %(id)s
