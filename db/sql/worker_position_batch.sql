-- GPS fixes of one worker; a resent fix (same worker and time) is kept once.
INSERT INTO worker_position (worker_id, region_code, at, geom, accuracy_m)
VALUES %s
ON CONFLICT (worker_id, at) DO NOTHING
