-- Special-group members now, per unit one level below the scope and kind, and how many had a
-- follow-up within %(days)s days before %(now)s (followed up on time).
SELECT left(g.cell_code, least(length(%(scope)s) + 3, 15)) AS unit_code, g.kind,
       count(*)::int AS members,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM reg_followup f WHERE f.special_id = g.id
                                      AND f.at > %(now)s - make_interval(days => %(days)s)
                                      AND f.at <= %(now)s))::int AS on_time
FROM reg_special_group g JOIN reg_person p ON p.id = g.person_id
WHERE g.region_code = %(region_code)s AND g.cell_code LIKE %(scope)s || '%%' AND g.ended_on IS NULL
  AND p.moved_out_at IS NULL
GROUP BY 1, 2 ORDER BY 1, 2
