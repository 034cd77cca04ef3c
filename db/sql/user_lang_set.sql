-- Remember the language a user chose for the dashboard.
UPDATE app_user SET lang = %(lang)s WHERE id = %(user_id)s
