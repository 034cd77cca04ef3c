-- Record a token's use, at most once a minute (a write per API call would be wasteful).
UPDATE api_token SET last_used_at = %(now)s
WHERE id = %(token_id)s AND (last_used_at IS NULL OR last_used_at < %(now)s::timestamptz - interval '1 minute')
