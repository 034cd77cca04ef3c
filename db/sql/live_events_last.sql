-- Live feed: the newest timeline event id (where a freshly opened page starts; 0 when none).
SELECT coalesce(max(id), 0) FROM incident_event
