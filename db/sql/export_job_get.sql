-- One background export, only for the user who started it; a queued job's place in the queue
-- (1 = next to start when a slot frees).
SELECT j.id::text, j.layers, j.format, j.crs, j.filters, j.state, j.total, j.done, j.file_name, j.error,
       j.created_at, j.started_at, j.finished_at, j.expires_at,
       CASE WHEN j.state = 'queued' THEN
           (SELECT count(*) FROM export_job q WHERE q.state = 'queued'
              AND (q.created_at, q.id) < (j.created_at, j.id)) + 1
       END AS position
FROM export_job j WHERE j.id = %(id)s AND j.username = %(username)s AND j.region_code = %(region_code)s
