-- The visit log (日走访) of one household: field visits linked to it, newest first.
SELECT v.id::text, v.kind, v.place, v.note, v.visited_at, l.flags, u.username
FROM reg_household_visit l JOIN field_visit v ON v.id = l.visit_id LEFT JOIN app_user u ON u.id = v.user_id
WHERE l.household_id = %(household_id)s ORDER BY v.visited_at DESC LIMIT 200
