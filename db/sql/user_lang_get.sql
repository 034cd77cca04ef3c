-- The language a user chose for the dashboard (NULL: never chosen).
SELECT lang FROM app_user WHERE id = %(user_id)s
