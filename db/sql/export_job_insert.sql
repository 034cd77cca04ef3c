-- A new background export, queued, unless its owner already has %(max_waiting)s queued or
-- running (then no row: the caller refuses with 429). The per-owner advisory lock makes two
-- simultaneous requests count each other.
SELECT pg_advisory_xact_lock(hashtext('onemap.export_job_insert:' || %(region_code)s || ':' || %(username)s));
INSERT INTO export_job (id, region_code, user_id, username, actor, layers, format, crs, filters, total)
SELECT %(id)s, %(region_code)s, %(user_id)s, %(username)s, %(actor)s::jsonb, %(layers)s, %(format)s, %(crs)s,
       %(filters)s::jsonb, %(total)s
WHERE (SELECT count(*) FROM export_job
       WHERE username = %(username)s AND region_code = %(region_code)s
         AND state IN ('queued', 'running')) < %(max_waiting)s
RETURNING id::text
