-- A grid worker in the caller's jurisdiction (%(scope)s) and the worker's last GPS fix; the name
-- is masked for roles that do not see staff names (data.policy.worker_out).
SELECT w.id, w.name, w.unit_code, p.at, ST_X(p.geom), ST_Y(p.geom)
FROM grid_worker w
LEFT JOIN LATERAL (SELECT at, geom FROM worker_position
                   WHERE worker_id = w.id ORDER BY at DESC LIMIT 1) p ON true
WHERE w.id = %(id)s AND w.region_code = %(region)s AND w.unit_code LIKE %(scope)s || '%%'
