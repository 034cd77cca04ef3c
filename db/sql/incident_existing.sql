-- The stored fingerprint and region of a report id (for idempotent retries).
SELECT payload_sha256, region_code FROM incident WHERE id = %(id)s
