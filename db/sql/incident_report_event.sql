-- The first timeline entry of a new report: who reported it, from where.
INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note, geom)
VALUES (%(id)s, %(region_code)s, %(now)s, 'report', NULL, 'new', 4, %(actor)s, %(description)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
