-- A new bearer token; only its SHA-256 is kept.
INSERT INTO api_token (region_code, user_id, token_sha256, name, read_only, created_at, expires_at)
VALUES (%(region_code)s, %(user_id)s, %(token_sha256)s, %(name)s, %(read_only)s, %(now)s,
        %(now)s::timestamptz + %(days)s * interval '1 day')
RETURNING id
