-- Revoke one field token (the phone's sign-out); returns it when it was live.
UPDATE api_token SET revoked = true
WHERE token_sha256 = %(token_sha256)s AND name = 'field' AND NOT revoked
RETURNING id
