-- A new browser session (only the SHA-256 of its random id is stored).
INSERT INTO user_session (id_sha256, user_id, region_code, read_only, created_at, last_seen_at,
                          idle_seconds, expires_at, address)
SELECT %(id_sha256)s, u.id, u.region_code, %(read_only)s, %(now)s, %(now)s, %(idle_s)s,
       %(now)s::timestamptz + %(max_s)s * interval '1 second', %(address)s::inet
FROM app_user u WHERE u.id = %(user_id)s
