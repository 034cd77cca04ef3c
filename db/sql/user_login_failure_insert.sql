-- One failed login (any path); the account's id and region when the name or token matched one.
INSERT INTO login_failure (at, address, username, user_id, path)
VALUES (%(now)s, %(address)s::inet, %(username)s, %(user_id)s, %(path)s)
