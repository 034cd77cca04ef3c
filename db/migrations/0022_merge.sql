-- 0022 duplicate reports merged into one incident, counted once.
--
-- incident.merged_into names the incident a duplicate was merged into. A merged incident is closed
-- (its own timeline kept, an event 'merge' on it and 'merged' on the one it joined) and stays
-- closed: the guard below refuses any later change of its state, so the state machine's reopen
-- cannot revive it. The roll-up every indicator reads (incident_rollup, 0011) is wrapped so that
-- a merged report is subtracted from the day, cell and category it was counted in: the KPIs, the
-- trend, categories, child units and cell metrics all count a merged report once, without any of
-- their queries knowing about merges. (Duplicates are merged while open, so they carry no solved
-- or late counts; the subtraction mirrors every column anyway.)

ALTER TABLE incident ADD COLUMN merged_into uuid REFERENCES incident;
CREATE INDEX incident_merged_idx ON incident (merged_into) WHERE merged_into IS NOT NULL;

CREATE FUNCTION incident_merged_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.merged_into IS DISTINCT FROM OLD.merged_into THEN
        RAISE EXCEPTION 'incident % was merged into % and stays closed', OLD.id, OLD.merged_into
            USING ERRCODE = 'OM409', DETAIL = '';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER incident_merged_guard BEFORE UPDATE ON incident
    FOR EACH ROW WHEN (OLD.merged_into IS NOT NULL) EXECUTE FUNCTION incident_merged_guard();

-- Merge the open incident p_dup into p_into (open or resolved, not itself merged), both of one
-- region; returns the merged row. Errors: OM404 unknown, OM409 not mergeable, OM422 same incident.
CREATE FUNCTION incident_merge(p_dup uuid, p_into uuid, p_actor text, p_note text DEFAULT NULL,
                               p_now timestamptz DEFAULT now())
RETURNS incident LANGUAGE plpgsql AS $$
DECLARE
    d incident;
    t incident;
    prev text;
BEGIN
    IF p_dup = p_into THEN
        RAISE EXCEPTION 'an incident cannot be merged into itself' USING ERRCODE = 'OM422';
    END IF;
    PERFORM 1 FROM incident WHERE id IN (p_dup, p_into) ORDER BY id FOR UPDATE;  -- one lock order
    SELECT * INTO d FROM incident WHERE id = p_dup;
    SELECT * INTO t FROM incident WHERE id = p_into;
    IF d.id IS NULL OR t.id IS NULL OR d.region_code <> t.region_code THEN
        RAISE EXCEPTION 'incident % or % not found', p_dup, p_into USING ERRCODE = 'OM404';
    END IF;
    IF d.merged_into IS NOT NULL OR NOT incident_is_open(d.state) THEN
        RAISE EXCEPTION 'incident % is not open (%): only an open report is merged', p_dup, d.state
            USING ERRCODE = 'OM409', DETAIL = '';
    END IF;
    IF t.merged_into IS NOT NULL OR incident_phase(t.state) = 'closed' THEN
        RAISE EXCEPTION 'incident % is closed or merged: merge into a live incident', p_into
            USING ERRCODE = 'OM409', DETAIL = '';
    END IF;
    prev := d.state;
    UPDATE incident SET state = 'closed', closed_at = p_now, merged_into = p_into
    WHERE id = p_dup RETURNING * INTO d;
    INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
    VALUES (p_dup, d.region_code, p_now, 'merge', prev, 'closed',
            d.handling_level, p_actor, coalesce(p_note || ' — ', '') || 'merged into ' || p_into),
           (p_into, t.region_code, p_now, 'merged', t.state, t.state, t.handling_level, p_actor,
            coalesce(p_note || ' — ', '') || 'duplicate ' || p_dup || ' merged');
    RETURN d;
END $$;

-- The roll-up view, less the merged reports (wrapping whatever the view is when this runs).
DO $$
DECLARE
    body text;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE relname = 'incident_rollup' AND relnamespace = 'public'::regnamespace) <> 'v' THEN
        RAISE EXCEPTION 'incident_rollup is no longer a view: merged reports need another way to be subtracted';
    END IF;
    body := rtrim(pg_get_viewdef('incident_rollup'::regclass), E'; \n');
    EXECUTE 'CREATE OR REPLACE VIEW incident_rollup AS ' || body || E'\nUNION ALL\n' ||
        $q$SELECT o.cell_code, local_day(o.received_at, g.timezone), o.category_code, -1,
               -(o.solved_level IS NOT DISTINCT FROM 4)::int, -(o.solved_level IS NOT DISTINCT FROM 3)::int,
               -(o.solved_level IS NOT DISTINCT FROM 2)::int, -(o.solved_level IS NOT DISTINCT FROM 1)::int, -coalesce(incident_is_late(o.resolved_at, o.due_at), false)::int,
               -coalesce(extract(epoch FROM o.resolved_at - o.received_at), 0)::double precision
        FROM incident o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NOT NULL$q$;
END $$;

-- Events by time (bulletins count the period's acceptances, dispatches, closures, escalations).
CREATE INDEX IF NOT EXISTS incident_event_region_at_idx ON incident_event (region_code, at);
