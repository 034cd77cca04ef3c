-- Revoke one user's tokens, all or those with one name.
UPDATE api_token t SET revoked = true
FROM app_user u
WHERE u.id = t.user_id AND u.username = %(username)s AND NOT t.revoked
  AND (%(name)s::text IS NULL OR t.name = %(name)s)
RETURNING t.id
