-- 0008 set-based checks for bulk loads. The rule stays "the database decides the cell": a writer
-- that already knows the cells of a whole COPY (the demo generator, importers) may say so with
-- `SET LOCAL onemap.bulk_verify = on`; the row trigger then keeps the given cell, and a statement
-- trigger checks every row of the statement in one join, refusing the whole statement on any
-- mismatch or point outside the grid. ~45 µs per row of plpgsql becomes one indexed join.

CREATE OR REPLACE FUNCTION incident_assign_cell() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('onemap.bulk_verify', true) = 'on' AND coalesce(NEW.cell_code, '') <> '' THEN
        RETURN NEW;  -- checked for the whole statement by incident_verify_cells
    END IF;
    NEW.cell_code := grid_cell_at(NEW.region_code, NEW.geom);
    IF NEW.cell_code IS NULL THEN
        RAISE EXCEPTION 'incident % at % is outside the grid of region %',
            NEW.id, ST_AsText(NEW.geom), NEW.region_code
            USING ERRCODE = 'check_violation', HINT = 'OUTSIDE_GRID';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION incident_verify_cells() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF current_setting('onemap.bulk_verify', true) IS DISTINCT FROM 'on' THEN
        RETURN NULL;
    END IF;
    SELECT n.id, n.cell_code AS claimed, c.cell_code AS actual, ST_AsText(n.geom) AS at INTO bad
    FROM new_rows n
    LEFT JOIN LATERAL (
        SELECT p.cell_code FROM grid_cell_piece p
        WHERE p.region_code = n.region_code AND p.geom && n.geom AND ST_Intersects(p.geom, n.geom)
        ORDER BY p.cell_code LIMIT 1) c ON true
    WHERE c.cell_code IS DISTINCT FROM n.cell_code
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'incident % at % claims cell % but the grid puts it in %',
            bad.id, bad.at, bad.claimed, coalesce(bad.actual, 'no cell (outside the grid)')
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER incident_verify_cells AFTER INSERT ON incident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_verify_cells();
