-- End one browser session (logout).
UPDATE user_session SET ended_at = %(now)s, ended_why = %(why)s
WHERE id_sha256 = %(id_sha256)s AND ended_at IS NULL
RETURNING user_id
