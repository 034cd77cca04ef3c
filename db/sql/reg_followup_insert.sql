-- A follow-up (帮扶 help / 管控 control) of a special-group member, appended.
INSERT INTO reg_followup (region_code, special_id, kind, at, user_id, note)
VALUES (%(region_code)s, %(special_id)s, %(kind)s, %(at)s, %(user_id)s, %(note)s)
RETURNING id
