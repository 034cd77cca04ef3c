-- After a bulk load whose per-COPY cell check was deferred: one row this transaction inserted whose
-- claimed cell is not the grid's (grid_cell_at's rule), or none. A point strictly inside its
-- claimed cell's polygon is that cell's and no other's: checked against the whole cell in cell
-- order, so PostGIS reuses one prepared polygon for all of a cell's points (~8× cheaper than a
-- probe per row); only the rest (on a boundary, or wrong) take the full rule's probe.
WITH mine AS MATERIALIZED (
    SELECT id, region_code, cell_code, geom FROM incident
    WHERE xmin::text = mod(pg_current_xact_id()::text::bigint, 4294967296)::text
    ORDER BY cell_code
)
SELECT m.id, m.cell_code, c.cell_code, ST_AsText(m.geom)
FROM mine m
LEFT JOIN grid_unit u ON u.code = m.cell_code AND u.level = 4
LEFT JOIN LATERAL (
    SELECT p.cell_code FROM grid_cell_piece p
    WHERE p.region_code = m.region_code AND p.geom && m.geom AND ST_Intersects(p.geom, m.geom)
    ORDER BY p.cell_code LIMIT 1) c ON NOT coalesce(ST_Contains(u.geom, m.geom), false)
WHERE NOT coalesce(ST_Contains(u.geom, m.geom), false) AND c.cell_code IS DISTINCT FROM m.cell_code
LIMIT 1
