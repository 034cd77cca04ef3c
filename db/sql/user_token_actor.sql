-- The account behind a live token (not revoked, not expired, account enabled), and the token's
-- use recorded at most once a minute (a write per API call would be wasteful), in one statement:
-- a bearer request costs one round trip before its work.
WITH live AS (
    SELECT t.id AS token_id, t.read_only, t.last_used_at,
           u.id, u.region_code, u.username, u.display_name, u.role, u.unit_code, u.department_code,
           u.worker_id
    FROM api_token t JOIN app_user u ON u.id = t.user_id
    WHERE t.token_sha256 = %(token_sha256)s
      AND NOT t.revoked AND NOT u.disabled
      AND (t.expires_at IS NULL OR t.expires_at > %(now)s)
), touch AS (
    UPDATE api_token SET last_used_at = %(now)s
    FROM live
    WHERE api_token.id = live.token_id
      AND (live.last_used_at IS NULL OR live.last_used_at < %(now)s::timestamptz - interval '1 minute')
)
SELECT * FROM live
