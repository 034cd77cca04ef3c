-- A registry write already made with this client key (0037): who, what, its fingerprint and answer.
SELECT region_code::text, user_id, kind, payload_sha256, status, answer FROM reg_write WHERE key = %(key)s
