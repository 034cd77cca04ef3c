-- The account behind a live browser session: not ended, not idle too long, not past its end,
-- account enabled. One indexed lookup per request.
SELECT s.read_only, s.last_seen_at,
       u.id, u.region_code, u.username, u.display_name, u.role, u.unit_code, u.department_code,
       u.worker_id
FROM user_session s JOIN app_user u ON u.id = s.user_id
WHERE s.id_sha256 = %(id_sha256)s
  AND s.ended_at IS NULL AND NOT u.disabled
  AND s.expires_at > %(now)s
  AND s.last_seen_at > %(now)s::timestamptz - s.idle_seconds * interval '1 second'
