-- Store a person's ID number and phone (NULL: unchanged, '': removed) and their masks.
SELECT reg_person_secret_set(%(person_id)s, %(id_number)s, %(phone)s)
