-- The demo's grid-worker account belongs to the first worker of the roster (stable for a seed).
SELECT id, code, unit_code, name FROM grid_worker
WHERE region_code = %(region_code)s AND active
ORDER BY code LIMIT 1
