-- Cells under the scope with a worker's fix inside them since a time (today's patrol coverage).
SELECT DISTINCT grid_cell_at(p.region_code, p.geom)
FROM worker_position p JOIN grid_worker w ON w.id = p.worker_id
WHERE p.region_code = %(region_code)s AND p.at >= %(since)s AND p.at <= %(now)s
  AND w.unit_code LIKE %(scope)s || '%%'
