-- One account by id (browser sessions re-read it on every request, so disabling takes effect).
SELECT id, region_code, username, display_name, role, unit_code, department_code, worker_id,
       password_hash, disabled
FROM app_user WHERE id = %(user_id)s
