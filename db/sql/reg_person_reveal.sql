-- The reveal path (0028): clear ID number and phone, audited by the function itself.
SELECT id_number, phone FROM reg_person_reveal(%(person_id)s, %(user_id)s, %(reason)s)
