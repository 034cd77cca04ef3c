-- After a bulk load whose per-COPY cell check was deferred: one row this transaction inserted whose
-- claimed cell is not the grid's (grid_cell_at's rule), or none.
SELECT n.id, n.cell_code, c.cell_code, ST_AsText(n.geom)
FROM incident n
LEFT JOIN LATERAL (
    SELECT p.cell_code FROM grid_cell_piece p
    WHERE p.region_code = n.region_code AND p.geom && n.geom AND ST_Intersects(p.geom, n.geom)
    ORDER BY p.cell_code LIMIT 1) c ON true
WHERE n.xmin::text = mod(pg_current_xact_id()::text::bigint, 4294967296)::text
  AND c.cell_code IS DISTINCT FROM n.cell_code
LIMIT 1
