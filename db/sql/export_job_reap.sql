-- Running jobs whose worker stopped beating (its server died or restarted) fail with a reason;
-- their partial files were never renamed into place. Returns their ids.
UPDATE export_job SET state = 'failed', finished_at = now(),
       error = 'interrupted: the server running this export stopped (restart or crash) at '
               || to_char(heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
               || '; start it again'
WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => %(stale_s)s)
RETURNING id::text
