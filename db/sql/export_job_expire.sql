-- Finished exports past their time to live: marked expired (their files are deleted by the
-- caller); returns their ids.
UPDATE export_job SET state = 'expired'
WHERE state = 'done' AND expires_at <= now()
RETURNING id::text
