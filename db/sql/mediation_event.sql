-- A mediation step that moves no state (the case was already accepted), on the timeline.
INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
SELECT id, region_code, %(now)s, 'mediation', state, state, handling_level, %(actor)s, %(note)s
FROM incident WHERE id = %(id)s
