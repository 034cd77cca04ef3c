-- A new account; the region follows from the jurisdiction unit.
INSERT INTO app_user (region_code, username, display_name, role, unit_code, department_code,
                      worker_id, password_hash)
VALUES (left(%(unit_code)s, 6), %(username)s, %(display_name)s, %(role)s, %(unit_code)s,
        %(department_code)s, %(worker_id)s, %(password_hash)s)
RETURNING id
