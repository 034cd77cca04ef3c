-- Accounts for `onemap users list`, with their live token count.
SELECT u.username, u.display_name, u.role, u.unit_code, g.name AS unit_name, u.department_code,
       w.code AS worker_code, u.disabled, u.locked_until, u.created_at,
       (SELECT count(*) FROM api_token t
        WHERE t.user_id = u.id AND NOT t.revoked
          AND (t.expires_at IS NULL OR t.expires_at > now())) AS tokens
FROM app_user u
JOIN grid_unit g ON g.code = u.unit_code
LEFT JOIN grid_worker w ON w.id = u.worker_id
WHERE %(region_code)s::text IS NULL OR u.region_code = %(region_code)s
ORDER BY u.region_code, u.username
