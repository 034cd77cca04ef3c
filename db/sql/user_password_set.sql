-- A new password hash for an account; clears any old lock. Returns the account.
UPDATE app_user SET password_hash = %(password_hash)s, failed_logins = 0, locked_until = NULL
WHERE username = %(username)s
RETURNING id, region_code, username
