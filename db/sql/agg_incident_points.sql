-- Incidents as points for the high-zoom map: in the viewport, the time range and the filters;
-- open ones first, then the newest, capped so a response never holds more than a few thousand.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f), '[]'::json))::text
FROM (
    SELECT json_build_object('type', 'Feature',
        'geometry', ST_AsGeoJSON(i.geom, 6)::json,
        'properties', json_build_object('id', i.id, 'category', i.category_code,
            'class', CASE
                WHEN i.state = 'closed' THEN 'solved'
                WHEN i.state = 'rejected' THEN 'rejected'
                WHEN i.due_at < %(now)s THEN 'overdue'
                WHEN i.state IN ('resolved', 'verified') THEN 'solved'
                WHEN i.state = 'new' THEN 'new'
                ELSE 'in_hand' END)) AS f
    FROM incident i
    WHERE i.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%'
      AND i.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
      AND (i.state NOT IN ('closed', 'rejected')
           OR (i.received_at >= %(since_ts)s AND i.received_at < %(until_ts)s))
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
      AND (%(level)s::smallint IS NULL OR i.handling_level = %(level)s)
    ORDER BY (i.state IN ('closed', 'rejected')), i.received_at DESC
    LIMIT %(limit)s
) s
