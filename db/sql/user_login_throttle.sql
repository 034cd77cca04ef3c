-- Until when a login attempt from %(address)s for %(username)s is refused (NULL: not refused), and why.
-- Each limit is "n failures within window": once reached, refused until the last of them + lock.
-- pair:    this account from this address (the ordinary lockout; the owner elsewhere is unaffected)
-- address: any account from this address (one machine guessing many accounts); password and
--          token failures are counted apart (%(tokens)s), each against its own limit
-- account: this account from any address, applied only to addresses that never signed in to it
--          with its password in the last 30 days (a botnet cannot lock the owner out of their usual machine)
WITH recent AS (
    SELECT username, address, at, path IN ('bearer', 'api_key', 'kiosk') AS token FROM login_failure
    WHERE at > %(now)s::timestamptz - (%(window_s)s + %(lock_s)s) * interval '1 second'
      AND (address IS NOT DISTINCT FROM %(address)s::inet OR username = %(username)s)
), pair AS (
    SELECT at, count(*) OVER (ORDER BY at RANGE BETWEEN %(window_s)s * interval '1 second' PRECEDING
                                                AND CURRENT ROW) AS n
    FROM recent WHERE username = %(username)s AND address IS NOT DISTINCT FROM %(address)s::inet
), addr AS (
    SELECT at, count(*) OVER (ORDER BY at RANGE BETWEEN %(window_s)s * interval '1 second' PRECEDING
                                                AND CURRENT ROW) AS n
    FROM recent WHERE address IS NOT DISTINCT FROM %(address)s::inet AND token = %(tokens)s
), acct AS (
    SELECT at, count(*) OVER (ORDER BY at RANGE BETWEEN %(window_s)s * interval '1 second' PRECEDING
                                                AND CURRENT ROW) AS n
    FROM recent WHERE username = %(username)s
), known AS (
    SELECT EXISTS (
        SELECT 1 FROM login_known k JOIN app_user u ON u.id = k.user_id
        WHERE u.username = %(username)s AND k.address = %(address)s::inet
          AND k.last_at > %(now)s::timestamptz - interval '30 days') AS yes
)
SELECT (SELECT max(at) FROM pair WHERE n >= %(pair_limit)s) + %(lock_s)s * interval '1 second' AS pair_until,
       (SELECT max(at) FROM addr WHERE n >= %(address_limit)s) + %(lock_s)s * interval '1 second' AS address_until,
       CASE WHEN (SELECT yes FROM known) THEN NULL
            ELSE (SELECT max(at) FROM acct WHERE n >= %(account_limit)s) + %(lock_s)s * interval '1 second'
       END AS account_until
