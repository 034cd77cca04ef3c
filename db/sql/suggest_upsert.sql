-- Store (or replace) a computed station suggestion with what it was computed from.
INSERT INTO coverage_suggestion AS s (region_code, scope, kind, minutes, road_version, facilities_hash, answer,
                                      computed_at)
VALUES (%(region)s, %(scope)s, %(kind)s, %(minutes)s, %(road_version)s, %(facilities_hash)s, %(answer)s::jsonb, now())
ON CONFLICT (region_code, scope, kind, minutes) DO UPDATE
    SET road_version = excluded.road_version, facilities_hash = excluded.facilities_hash,
        answer = excluded.answer, computed_at = excluded.computed_at
