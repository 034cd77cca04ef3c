-- A note on an incident's timeline (an Open311 media_url or address_string): not a transition, so
-- the state and level stay as they are. Once per text: a retried POST adds no second copy.
INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
SELECT i.id, i.region_code, %(now)s, 'note', i.state, i.state, i.handling_level, %(actor)s, %(note)s
FROM incident i
WHERE i.id = %(id)s
  AND NOT EXISTS (SELECT 1 FROM incident_event e
                  WHERE e.incident_id = i.id AND e.action = 'note' AND e.note = %(note)s)
