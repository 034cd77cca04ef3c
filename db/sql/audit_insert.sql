-- One audit record (the table refuses UPDATE and DELETE).
INSERT INTO audit_log (region_code, at, user_id, username, action, object_type, object_id, detail, count)
VALUES (%(region_code)s, coalesce(%(at)s, now()), %(user_id)s, %(username)s, %(action)s,
        %(object_type)s, %(object_id)s, %(detail)s::jsonb, %(count)s)
RETURNING id
