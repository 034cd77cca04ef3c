-- A successful login clears the failure count and any expired lock.
UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = %(user_id)s
