-- The region's keyed hash (HMAC-SHA256, reg_key) of a secret value: an ID number or a phone.
SELECT reg_id_hash(%(region_code)s, %(value)s)
