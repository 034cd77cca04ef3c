-- One background export, only for the user who started it.
SELECT id::text, layers, format, crs, filters, state, total, done, file_name, error, created_at, finished_at
FROM export_job WHERE id = %(id)s AND username = %(username)s AND region_code = %(region_code)s
