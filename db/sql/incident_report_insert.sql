-- A new report. ON CONFLICT keeps retries and concurrent duplicates to one row: the loser of a race
-- waits for the winner's commit and then inserts nothing (and reads the winner's row instead).
INSERT INTO incident (id, region_code, category_code, description, geom, cell_code, observed_at,
                      received_at, state, handling_level, due_at, reporter_id, source, payload_sha256)
SELECT %(id)s, %(region_code)s, %(category)s, %(description)s,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), '', %(observed_at)s, %(now)s, 'new', 4,
       incident_deadline(4::smallint, %(now)s, r.timezone), %(reporter_id)s, %(source)s, %(payload_sha256)s
FROM region r WHERE r.region_code = %(region_code)s
ON CONFLICT (id) DO NOTHING
RETURNING id
