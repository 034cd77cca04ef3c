-- The latest background exports of one user, newest first (the analyst page's "my exports"),
-- with a queued job's place in the queue.
SELECT j.id::text, j.layers, j.format, j.crs, j.state, j.total, j.done, j.file_name, j.error, j.created_at,
       j.started_at, j.finished_at, j.expires_at,
       CASE WHEN j.state = 'queued' THEN
           (SELECT count(*) FROM export_job q WHERE q.state = 'queued'
              AND (q.created_at, q.id) < (j.created_at, j.id)) + 1
       END AS position
FROM export_job j WHERE j.username = %(username)s AND j.region_code = %(region_code)s
ORDER BY j.created_at DESC LIMIT %(limit)s
