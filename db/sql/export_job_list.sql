-- The latest background exports of one user, newest first (the analyst page's "my exports").
SELECT id::text, layers, format, crs, state, total, done, file_name, error, created_at
FROM export_job WHERE username = %(username)s AND region_code = %(region_code)s
ORDER BY created_at DESC LIMIT %(limit)s
