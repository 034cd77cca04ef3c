-- One visit from the field app, idempotent on the phone's UUID: a retry inserts nothing and the
-- stored row's fingerprint is returned (the caller compares it to refuse a changed payload).
-- The cell is the grid cell at the point, else the worker's own cell.
WITH ins AS (
    INSERT INTO field_visit (id, region_code, user_id, worker_id, cell_code, kind, place, note,
                             visited_at, geom, payload_sha256)
    SELECT %(id)s, %(region_code)s, %(user_id)s, %(worker_id)s,
           coalesce(CASE WHEN %(lon)s::float8 IS NULL THEN NULL
                         ELSE grid_cell_at(%(region_code)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) END,
                    (SELECT unit_code FROM grid_worker WHERE id = %(worker_id)s)),
           %(kind)s, %(place)s, %(note)s, %(visited_at)s,
           CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
           %(sha)s
    ON CONFLICT (id) DO NOTHING
    RETURNING id, true AS created, payload_sha256, user_id
)
SELECT id, created, payload_sha256, user_id FROM ins
UNION ALL
SELECT id, false, payload_sha256, user_id FROM field_visit WHERE id = %(id)s AND NOT EXISTS (SELECT 1 FROM ins)
