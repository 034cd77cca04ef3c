-- 0015 export queue: background exports become bounded jobs in a queue the database holds.
-- A job is queued when asked for; a bounded pool of workers in each server process claims jobs
-- (FOR UPDATE SKIP LOCKED, under one advisory lock so the limits count exactly) while fewer than
-- the per-user and global limits run. Workers write a heartbeat; a running job whose heartbeat
-- stopped (its server died or restarted) is failed with a reason, a queued one simply waits for
-- the next worker, so queued jobs survive a restart. A finished file is kept until expires_at,
-- then deleted and the job marked 'expired'.
ALTER TABLE export_job DROP CONSTRAINT IF EXISTS export_job_state_check;
ALTER TABLE export_job ADD CONSTRAINT export_job_state_check
    CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired'));
ALTER TABLE export_job
    ADD COLUMN actor        jsonb,        -- who it runs as when there is no account (user_id NULL)
    ADD COLUMN started_at   timestamptz,
    ADD COLUMN heartbeat_at timestamptz,  -- the running worker is alive while this moves
    ADD COLUMN worker       text,         -- host:pid:n of the worker running it
    ADD COLUMN expires_at   timestamptz;  -- when a finished file is deleted

-- Jobs left by the thread-per-request design cannot be resumed (their threads are gone).
UPDATE export_job SET state = 'failed', finished_at = now(),
       error = 'interrupted: the server was upgraded while this export waited or ran; start it again'
WHERE state IN ('queued', 'running');

CREATE INDEX export_job_queued_idx ON export_job (created_at, id) WHERE state = 'queued';
CREATE INDEX export_job_running_idx ON export_job (username, region_code) WHERE state = 'running';
CREATE INDEX export_job_expiry_idx ON export_job (expires_at) WHERE state = 'done';
CREATE INDEX export_job_owner_idx ON export_job (username, region_code, created_at DESC);
