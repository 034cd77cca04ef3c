-- 0022 duplicate reports merged into one incident, counted once.
--
-- incident.merged_into names the incident a duplicate was merged into. A merged incident is closed
-- (its own timeline kept, an event 'merge' on it and 'merged' on the one it joined) and stays
-- closed: the guard below refuses any later change of its state, so the state machine's reopen
-- cannot revive it. The roll-up trigger counts only unmerged rows (below), so merging subtracts
-- the report from the day, cell and category it was counted in, through the ordinary deltas: the
-- KPIs, the trend, categories, child units and cell metrics all count a merged report once.

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

-- A merged report counts nowhere: the roll-up trigger (0011, same text but for the filters)
-- counts only rows with no merged_into, so setting it emits the -1 (and the reverse of every
-- column) through the same delta rows every change goes through. Every reader of the roll-ups —
-- the folded rows, the unit roll-ups fed by their fold (0035), the view — counts a merged report
-- once, with no query knowing about merges. No incident is merged before this migration.
CREATE OR REPLACE FUNCTION incident_rollup_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' AND current_setting('onemap.bulk_verify', true) = 'on' THEN
        INSERT INTO incident_rollup_folded AS r
            (cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s)
        SELECT o.cell_code, local_day(o.received_at, g.timezone), o.category_code, count(*),
               count(*) FILTER (WHERE o.solved_level = 4), count(*) FILTER (WHERE o.solved_level = 3),
               count(*) FILTER (WHERE o.solved_level = 2), count(*) FILTER (WHERE o.solved_level = 1),
               count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
               coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
        FROM new_rows o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NULL GROUP BY 1, 2, 3
        ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO incident_rollup_delta
        SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone), o.category_code, count(*),
               count(*) FILTER (WHERE o.solved_level = 4), count(*) FILTER (WHERE o.solved_level = 3),
               count(*) FILTER (WHERE o.solved_level = 2), count(*) FILTER (WHERE o.solved_level = 1),
               count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
               coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
        FROM new_rows o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NULL GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_rollup_delta
        SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone), o.category_code, -count(*),
               -count(*) FILTER (WHERE o.solved_level = 4), -count(*) FILTER (WHERE o.solved_level = 3),
               -count(*) FILTER (WHERE o.solved_level = 2), -count(*) FILTER (WHERE o.solved_level = 1),
               -count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
               -coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
        FROM old_rows o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NULL GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO incident_rollup_delta
        SELECT region_code, cell_code, day, category_code, sum(n), sum(s4), sum(s3), sum(s2), sum(s1),
               sum(late), sum(handling_s)
        FROM (
            SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone) AS day, o.category_code,
                   -count(*) AS n, -count(*) FILTER (WHERE o.solved_level = 4) AS s4,
                   -count(*) FILTER (WHERE o.solved_level = 3) AS s3,
                   -count(*) FILTER (WHERE o.solved_level = 2) AS s2,
                   -count(*) FILTER (WHERE o.solved_level = 1) AS s1,
                   -count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)) AS late,
                   -coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0) AS handling_s
            FROM old_rows o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NULL GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone), o.category_code,
                   count(*), count(*) FILTER (WHERE o.solved_level = 4),
                   count(*) FILTER (WHERE o.solved_level = 3), count(*) FILTER (WHERE o.solved_level = 2),
                   count(*) FILTER (WHERE o.solved_level = 1),
                   count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
                   coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
            FROM new_rows o JOIN region g ON g.region_code = o.region_code
        WHERE o.merged_into IS NULL GROUP BY 1, 2, 3, 4
        ) c
        GROUP BY 1, 2, 3, 4
        HAVING sum(n) <> 0 OR sum(s4) <> 0 OR sum(s3) <> 0 OR sum(s2) <> 0 OR sum(s1) <> 0
            OR sum(late) <> 0 OR sum(handling_s) <> 0;
    END IF;
    RETURN NULL;
END $$;

-- Events by time (bulletins count the period's acceptances, dispatches, closures, escalations).
CREATE INDEX IF NOT EXISTS incident_event_region_at_idx ON incident_event (region_code, at);
