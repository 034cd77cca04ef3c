-- One account with what login and Actor need; FOR UPDATE serialises concurrent logins.
SELECT id, region_code, username, display_name, role, unit_code, department_code, worker_id,
       password_hash, disabled, failed_logins, locked_until
FROM app_user WHERE username = %(username)s
FOR UPDATE
