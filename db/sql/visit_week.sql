-- A worker's week: distinct cells their GPS fixes fell in, incidents they reported, visits they logged.
SELECT
    (SELECT count(DISTINCT grid_cell_at(p.region_code, p.geom)) FROM worker_position p
     WHERE p.worker_id = %(worker_id)s AND p.at >= %(since)s) AS cells_covered,
    (SELECT count(*) FROM incident i
     WHERE i.region_code = %(region_code)s AND i.reporter_id = %(worker_id)s AND i.received_at >= %(since)s) AS reports,
    (SELECT count(*) FROM field_visit v WHERE v.user_id = %(user_id)s AND v.visited_at >= %(since)s) AS visits
