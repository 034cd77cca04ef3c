-- Record a session's use, at most once a minute (it slides the idle timeout).
UPDATE user_session SET last_seen_at = %(now)s
WHERE id_sha256 = %(id_sha256)s AND ended_at IS NULL
  AND last_seen_at < %(now)s::timestamptz - interval '1 minute'
