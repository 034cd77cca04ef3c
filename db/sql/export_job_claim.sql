-- The oldest queued export that may start now: fewer than %(per_user)s of its owner's and fewer
-- than %(global)s in all are running. One claimer at a time (transaction advisory lock), so the
-- counts cannot be raced past the limits by another process; SKIP LOCKED passes rows a worker
-- is changing. Marks the job running for %(worker)s and returns it.
SELECT pg_advisory_xact_lock(hashtext('onemap.export_job_claim'));
UPDATE export_job j
SET state = 'running', started_at = now(), heartbeat_at = now(), worker = %(worker)s, done = 0
WHERE j.id = (
    SELECT q.id FROM export_job q
    WHERE q.state = 'queued'
      AND (SELECT count(*) FROM export_job r WHERE r.state = 'running') < %(global)s
      AND (SELECT count(*) FROM export_job r WHERE r.state = 'running'
           AND r.username = q.username AND r.region_code = q.region_code) < %(per_user)s
    ORDER BY q.created_at, q.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED)
RETURNING j.id::text, j.region_code, j.user_id, j.username, j.actor, j.layers, j.format, j.crs, j.filters,
          j.total
