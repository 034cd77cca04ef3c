-- Each active worker's latest GPS fix in [since, until) (default: the day before now), for workers
-- assigned under the scope. Names and phones are masked by the registry unless the role may see them.
SELECT w.code AS fid, p.geom, w.code AS worker, w.name AS worker_name, w.phone, w.unit_code,
       p.at, p.accuracy_m::float8 AS accuracy_m
FROM grid_worker w
JOIN LATERAL (
    SELECT geom, at, accuracy_m FROM worker_position
    WHERE worker_id = w.id
      AND at >= coalesce(%(since)s::timestamptz, %(now)s::timestamptz - interval '1 day')
      AND at < coalesce(%(until)s::timestamptz, %(now)s::timestamptz + interval '1 second')
    ORDER BY at DESC LIMIT 1) p ON true
WHERE w.region_code = %(region_code)s AND w.unit_code LIKE %(scope)s || '%%' AND w.active
