-- A correct password from an address clears that (account, address) pair's failures, and rows
-- older than a day are pruned (the audit log keeps the record of every failure).
DELETE FROM login_failure
WHERE (username = %(username)s AND address IS NOT DISTINCT FROM %(address)s::inet)
   OR at < %(now)s::timestamptz - interval '1 day'
