-- Progress or the end of a background export (NULL keeps a column as it is); only while it is
-- still running, so a job already failed by the reaper stays failed. A finished file is kept
-- for %(ttl_s)s seconds.
UPDATE export_job SET state = %(state)s, done = coalesce(%(done)s, done), heartbeat_at = now(),
       file_name = coalesce(%(file_name)s, file_name), error = coalesce(%(error)s, error),
       finished_at = CASE WHEN %(state)s IN ('done', 'failed') THEN now() ELSE finished_at END,
       expires_at = CASE WHEN %(state)s = 'done' THEN now() + make_interval(secs => %(ttl_s)s) ELSE expires_at END
WHERE id = %(id)s AND state = 'running'
RETURNING id::text
