-- A correct password from an address: clear that (account, address) pair's failures (rows older
-- than a day are pruned too; the audit log keeps every failure) and remember the address as one
-- the owner uses (refreshed at most hourly, so a busy HTTP-basic client costs no real write).
WITH cleared AS (
    DELETE FROM login_failure
    WHERE (username = %(username)s AND address IS NOT DISTINCT FROM %(address)s::inet)
       OR at < %(now)s::timestamptz - interval '1 day'
)
INSERT INTO login_known (user_id, address, last_at)
SELECT %(user_id)s, %(address)s::inet, %(now)s WHERE %(address)s::inet IS NOT NULL
ON CONFLICT (user_id, address) DO UPDATE SET last_at = EXCLUDED.last_at
    WHERE login_known.last_at < EXCLUDED.last_at - interval '1 hour'
