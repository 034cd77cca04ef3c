-- A person's special-group records with their follow-ups (newest first).
SELECT g.id, g.kind, g.since::text, g.ended_on::text,
       coalesce((SELECT json_agg(json_build_object('kind', f.kind, 'at', f.at, 'note', f.note) ORDER BY f.at DESC)
                 FROM reg_followup f WHERE f.special_id = g.id), '[]') AS followups
FROM reg_special_group g WHERE g.person_id = %(person_id)s ORDER BY g.kind
