-- Disable an account and revoke its tokens (sessions die on their next request).
WITH u AS (
    UPDATE app_user SET disabled = true WHERE username = %(username)s RETURNING id, region_code
), t AS (
    UPDATE api_token SET revoked = true WHERE user_id IN (SELECT id FROM u) AND NOT revoked
    RETURNING id
)
SELECT u.id, u.region_code, (SELECT count(*) FROM t) AS tokens_revoked FROM u
