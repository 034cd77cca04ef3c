-- A demo account, reset to its documented state if it exists in the same region.
INSERT INTO app_user (region_code, username, display_name, role, unit_code, department_code,
                      worker_id, password_hash)
VALUES (%(region_code)s, %(username)s, %(display_name)s, %(role)s, %(unit_code)s,
        %(department_code)s, %(worker_id)s, %(password_hash)s)
ON CONFLICT (username) DO UPDATE SET
    display_name    = EXCLUDED.display_name,
    role            = EXCLUDED.role,
    unit_code       = EXCLUDED.unit_code,
    department_code = EXCLUDED.department_code,
    worker_id       = EXCLUDED.worker_id,
    password_hash   = EXCLUDED.password_hash,
    disabled        = false,
    failed_logins   = 0,
    locked_until    = NULL
WHERE app_user.region_code = EXCLUDED.region_code
RETURNING id
