-- A new background export, queued.
INSERT INTO export_job (id, region_code, user_id, username, layers, format, crs, filters, total)
VALUES (%(id)s, %(region_code)s, %(user_id)s, %(username)s, %(layers)s, %(format)s, %(crs)s,
        %(filters)s::jsonb, %(total)s)
