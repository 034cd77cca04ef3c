-- End every live session of one account (password change, disabled, or an admin's decision),
-- except optionally the one that asked; returns how many ended.
UPDATE user_session SET ended_at = %(now)s, ended_why = %(why)s
WHERE user_id = %(user_id)s AND ended_at IS NULL
  AND (%(keep)s::bytea IS NULL OR id_sha256 <> %(keep)s::bytea)
RETURNING id_sha256
