-- The return visits of one incident, oldest first.
SELECT v.id, v.round, v.outcome, v.note, iso_local(v.visited_at, r.timezone), v.actor, v.reopened
FROM return_visit v JOIN region r ON r.region_code = v.region_code
WHERE v.incident_id = %(id)s ORDER BY v.visited_at, v.id
