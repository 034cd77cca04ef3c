-- Keep a registry write's key, fingerprint and answer (appended; the caller holds the key's lock).
INSERT INTO reg_write (key, region_code, user_id, kind, record_id, payload_sha256, status, answer)
VALUES (%(key)s, %(region_code)s, %(user_id)s, %(kind)s, %(record_id)s, %(sha)s, %(status)s, %(answer)s)
