-- Disable an account, revoke its tokens and end its browser sessions, in one statement.
WITH u AS (
    UPDATE app_user SET disabled = true WHERE username = %(username)s RETURNING id, region_code
), t AS (
    UPDATE api_token SET revoked = true WHERE user_id IN (SELECT id FROM u) AND NOT revoked
    RETURNING id
), s AS (
    UPDATE user_session SET ended_at = %(now)s, ended_why = 'disabled'
    WHERE user_id IN (SELECT id FROM u) AND ended_at IS NULL
    RETURNING user_id
)
SELECT u.id, u.region_code, (SELECT count(*) FROM t) AS tokens_revoked,
       (SELECT count(*) FROM s) AS sessions_ended FROM u
