-- 0007 incident roll-ups kept as data arrives, so maps, heat and KPIs stay fast at 10M incidents.
-- A full-table aggregate costs seconds to minutes at that size (REFERENCE.md §5); these counts per
-- cell, day, category and outcome are a few hundred thousand rows at most and are summed instead.

CREATE TABLE incident_rollup (
    cell_code      text COLLATE "C" NOT NULL REFERENCES grid_unit (code) ON DELETE CASCADE,
    day            date NOT NULL,             -- local (Asia/Shanghai) day the report was received
    category_code  text COLLATE "C" NOT NULL,
    n              integer NOT NULL,          -- reports
    solved_4       integer NOT NULL,          -- solved by the grid worker …
    solved_3       integer NOT NULL,          -- … the village
    solved_2       integer NOT NULL,          -- … the town
    solved_1       integer NOT NULL,          -- … the banner
    late           integer NOT NULL,          -- closed (or, until closed, resolved) after the deadline
    handling_s     double precision NOT NULL, -- summed seconds from received to resolved
    PRIMARY KEY (cell_code, day, category_code)
);
CREATE INDEX incident_rollup_day_idx ON incident_rollup (day);

-- Statement-level triggers read the transition tables once per statement, so a COPY of 100k rows
-- costs one grouped upsert rather than 100k row triggers. Old rows count -1, new rows +1.
CREATE FUNCTION incident_rollup_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO incident_rollup AS r
        SELECT cell_code, (received_at AT TIME ZONE 'Asia/Shanghai')::date, category_code, -count(*),
               -count(*) FILTER (WHERE solved_level = 4), -count(*) FILTER (WHERE solved_level = 3),
               -count(*) FILTER (WHERE solved_level = 2), -count(*) FILTER (WHERE solved_level = 1),
               -count(*) FILTER (WHERE coalesce(closed_at, resolved_at) > due_at),
               -coalesce(sum(extract(epoch FROM resolved_at - received_at)), 0)
        FROM old_rows GROUP BY 1, 2, 3
        ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO incident_rollup AS r
        SELECT cell_code, (received_at AT TIME ZONE 'Asia/Shanghai')::date, category_code, count(*),
               count(*) FILTER (WHERE solved_level = 4), count(*) FILTER (WHERE solved_level = 3),
               count(*) FILTER (WHERE solved_level = 2), count(*) FILTER (WHERE solved_level = 1),
               count(*) FILTER (WHERE coalesce(closed_at, resolved_at) > due_at),
               coalesce(sum(extract(epoch FROM resolved_at - received_at)), 0)
        FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM incident_rollup WHERE n = 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER incident_rollup_insert AFTER INSERT ON incident
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_sync();
CREATE TRIGGER incident_rollup_update AFTER UPDATE ON incident
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_sync();
CREATE TRIGGER incident_rollup_delete AFTER DELETE ON incident
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_sync();

-- Fill the roll-up from incidents already stored (databases migrated after loading).
INSERT INTO incident_rollup
SELECT cell_code, (received_at AT TIME ZONE 'Asia/Shanghai')::date, category_code, count(*),
       count(*) FILTER (WHERE solved_level = 4), count(*) FILTER (WHERE solved_level = 3),
       count(*) FILTER (WHERE solved_level = 2), count(*) FILTER (WHERE solved_level = 1),
       count(*) FILTER (WHERE coalesce(closed_at, resolved_at) > due_at),
       coalesce(sum(extract(epoch FROM resolved_at - received_at)), 0)
FROM incident GROUP BY 1, 2, 3;

-- Open incidents are few and change often: the map and alarms read them straight from incident
-- through this index.
CREATE INDEX incident_open_cell_idx ON incident (cell_code) WHERE state NOT IN ('closed', 'rejected');

DO $$
BEGIN
    GRANT SELECT ON incident_rollup TO onemap_app;
    GRANT INSERT, UPDATE, DELETE ON incident_rollup TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    NULL;
END $$;
