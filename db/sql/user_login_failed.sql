-- Count a failed login; the failure that reaches the limit locks the account and resets the count.
UPDATE app_user SET
    failed_logins = CASE WHEN failed_logins + 1 >= %(max_failures)s THEN 0 ELSE failed_logins + 1 END,
    locked_until  = CASE WHEN failed_logins + 1 >= %(max_failures)s
                         THEN %(now)s::timestamptz + %(lock_seconds)s * interval '1 second'
                         ELSE locked_until END
WHERE id = %(user_id)s
RETURNING failed_logins, locked_until
