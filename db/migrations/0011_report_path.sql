-- 0011 the report path without a queue: one function call per report, roll-ups without a hot row,
-- escalation in short batches that never wait on a lock.
--
-- 1. incident_report(...) does the whole report in one call: category check, inside-county test
--    (the distance to the county is computed only for points outside it), insert, first timeline
--    event, idempotency on the phone's UUID. data/incidents.py sends it and the response query in
--    one message, so a report is one round trip and one commit.
-- 2. Roll-ups: the statement triggers no longer upsert the shared incident_rollup rows (50
--    concurrent reports of one cell, day and category queued on that row's lock, and two escalation
--    runners deadlocked on them). They append signed delta rows to incident_rollup_delta, which
--    nobody updates; incident_rollup_fold() moves them into incident_rollup_folded (the server runs
--    it about every second; only one session at a time does the work). incident_rollup is now a
--    view of folded rows plus the deltas not folded yet, so every reader (they all sum) stays exact
--    at every moment, with no change to their queries. A change that alters no roll-up column (an
--    escalation, an acceptance) writes no delta at all.
-- 3. incident_escalate_batch(now, region, limit): up to `limit` overdue incidents, each locked with
--    SKIP LOCKED (never waiting for another runner or an API action) and escalated exactly once per
--    missed level. It waits on no lock at all, so it cannot be part of a deadlock.

-- ---------------------------------------------------------------------------------------------
-- 2. Roll-ups as append-only deltas
ALTER TABLE incident_rollup RENAME TO incident_rollup_folded;
ALTER INDEX incident_rollup_pkey RENAME TO incident_rollup_folded_pkey;
ALTER INDEX incident_rollup_day_idx RENAME TO incident_rollup_folded_day_idx;
-- The region is the cell code's first six digits (a column, like every table has, for scoping).
ALTER TABLE incident_rollup_folded
    ADD COLUMN region_code char(6) GENERATED ALWAYS AS (left(cell_code, 6)::char(6)) STORED;

-- Signed changes not folded yet. No key and no index: rows are only appended (by the trigger) and
-- deleted (by the fold), so concurrent reports never touch the same row.
CREATE TABLE incident_rollup_delta (
    region_code    char(6) NOT NULL,
    cell_code      text COLLATE "C" NOT NULL,
    day            date NOT NULL,
    category_code  text COLLATE "C" NOT NULL,
    n              integer NOT NULL,
    solved_4       integer NOT NULL,
    solved_3       integer NOT NULL,
    solved_2       integer NOT NULL,
    solved_1       integer NOT NULL,
    late           integer NOT NULL,
    handling_s     double precision NOT NULL
);

-- What the dashboard reads. Every reader sums these columns, so folded + pending is exact.
CREATE VIEW incident_rollup AS
    SELECT cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s
    FROM incident_rollup_folded
    UNION ALL
    SELECT cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s
    FROM incident_rollup_delta;

-- The trigger (same definitions as 0010: the region's local day, incident_is_late). New rows
-- count +1, old rows -1, netted per key; a key whose change is zero in every column writes
-- nothing (an escalation or an acceptance changes no roll-up column, so it writes no delta).
-- Bulk loads (`SET LOCAL onemap.bulk_verify = on`: one writer, COPY) add their inserts straight to
-- the folded rows, so loading 10M incidents leaves no backlog to fold.
-- SECURITY DEFINER: the application role may read the roll-up but never write it directly.
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
        FROM new_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3
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
        FROM new_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_rollup_delta
        SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone), o.category_code, -count(*),
               -count(*) FILTER (WHERE o.solved_level = 4), -count(*) FILTER (WHERE o.solved_level = 3),
               -count(*) FILTER (WHERE o.solved_level = 2), -count(*) FILTER (WHERE o.solved_level = 1),
               -count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
               -coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
        FROM old_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3, 4;
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
            FROM old_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT o.region_code, o.cell_code, local_day(o.received_at, g.timezone), o.category_code,
                   count(*), count(*) FILTER (WHERE o.solved_level = 4),
                   count(*) FILTER (WHERE o.solved_level = 3), count(*) FILTER (WHERE o.solved_level = 2),
                   count(*) FILTER (WHERE o.solved_level = 1),
                   count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
                   coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
            FROM new_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3, 4
        ) c
        GROUP BY 1, 2, 3, 4
        HAVING sum(n) <> 0 OR sum(s4) <> 0 OR sum(s3) <> 0 OR sum(s2) <> 0 OR sum(s1) <> 0
            OR sum(late) <> 0 OR sum(handling_s) <> 0;
    END IF;
    RETURN NULL;
END $$;

-- Move the pending deltas into the folded rows; returns how many delta rows it folded (0 when
-- another session is folding right now: it does not wait). Safe to call from any number of
-- processes at any time; readers see the roll-up exact before, during and after.
CREATE FUNCTION incident_rollup_fold() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    moved integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(59309) THEN  -- 0xE7AD: one folder at a time, others skip
        RETURN 0;
    END IF;
    WITH d AS (
        DELETE FROM incident_rollup_delta RETURNING *
    ), g AS (
        SELECT cell_code, day, category_code, count(*) AS rows, sum(n) AS n, sum(solved_4) AS solved_4,
               sum(solved_3) AS solved_3, sum(solved_2) AS solved_2, sum(solved_1) AS solved_1,
               sum(late) AS late, sum(handling_s) AS handling_s
        FROM d GROUP BY 1, 2, 3
    ), up AS (
        INSERT INTO incident_rollup_folded AS r
            (cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s)
        SELECT cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s
        FROM g
        ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s
        RETURNING 1
    )
    SELECT coalesce(sum(rows), 0) INTO moved FROM g;
    RETURN moved;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 1. One call per report
-- Errors (SQLSTATE OM422, the field in COLUMN): 'category' unknown category; 'lon' outside the
-- county, DETAIL = metres outside; 'id' the id was used for a different payload; 'region' no such
-- region. Returns whether a new incident was made (false: a retry of the same report), and sets
-- the transaction-local onemap.report_created to the same, for the response query that follows.
CREATE FUNCTION incident_report(p_id uuid, p_region char(6), p_category text, p_description text,
                                p_lon double precision, p_lat double precision,
                                p_observed_at timestamptz, p_now timestamptz, p_reporter_id bigint,
                                p_source text, p_payload_sha256 text, p_actor text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    p geometry := ST_SetSRID(ST_MakePoint(p_lon, p_lat), 4326);
    tz text;
    stored text;
    created boolean;
BEGIN
    PERFORM 1 FROM incident_category WHERE code = p_category;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown category %', p_category USING ERRCODE = 'OM422', COLUMN = 'category';
    END IF;
    SELECT timezone INTO tz FROM region WHERE region_code = p_region;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown region %', p_region USING ERRCODE = 'OM422', COLUMN = 'region';
    END IF;
    -- Inside: one indexed lookup. The distance to the 1,000+-vertex boundary only when outside.
    IF grid_cell_at(p_region, p) IS NULL THEN
        RAISE EXCEPTION 'point outside region %', p_region USING ERRCODE = 'OM422', COLUMN = 'lon',
            DETAIL = (SELECT ST_Distance(p::geography, u.geom::geography)::text
                      FROM grid_unit u WHERE u.region_code = p_region AND u.level = 1);
    END IF;
    -- ON CONFLICT keeps retries and concurrent duplicates to one row: the loser of a race waits
    -- for the winner's commit, inserts nothing, and compares the payloads below.
    INSERT INTO incident (id, region_code, category_code, description, geom, cell_code, observed_at,
                          received_at, state, handling_level, due_at, reporter_id, source, payload_sha256)
    VALUES (p_id, p_region, p_category, p_description, p, '', p_observed_at, p_now, 'new', 4,
            incident_deadline(4::smallint, p_now, tz), p_reporter_id, p_source, p_payload_sha256)
    ON CONFLICT (id) DO NOTHING;
    created := FOUND;
    IF created THEN
        INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level,
                                    actor, note, geom)
        VALUES (p_id, p_region, p_now, 'report', NULL, 'new', 4, p_actor, p_description, p);
    ELSE
        SELECT payload_sha256 INTO stored FROM incident WHERE id = p_id;
        IF stored IS DISTINCT FROM p_payload_sha256 THEN
            RAISE EXCEPTION 'id % was already used for a different report', p_id
                USING ERRCODE = 'OM422', COLUMN = 'id';
        END IF;
    END IF;
    PERFORM set_config('onemap.report_created', created::text, true);
    RETURN created;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 3. Escalation in batches that never wait
-- Up to p_limit (NULL: all) overdue incidents of p_region (NULL: all regions), oldest deadline
-- first, each locked with SKIP LOCKED: an incident another runner or an API action holds is left
-- for the next round. Each missed level is escalated exactly once (the unique index
-- incident_event_escalate_once and the row lock guarantee it), its event dated at the missed
-- deadline, the next deadline counted from it. Returns the incidents touched and the escalations
-- made; a caller repeats until incidents = 0.
CREATE FUNCTION incident_escalate_batch(p_now timestamptz, p_region char(6), p_limit integer)
RETURNS TABLE(incidents integer, escalations integer) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    tz text;
    lvl smallint;
    due timestamptz;
    added integer;
BEGIN
    incidents := 0;
    escalations := 0;
    FOR r IN
        SELECT i.id, i.state, i.handling_level, i.due_at, i.region_code, g.timezone
        FROM incident i JOIN region g ON g.region_code = i.region_code
        WHERE incident_is_overdue(i.state, i.due_at, p_now) AND i.handling_level > 1
          AND (p_region IS NULL OR i.region_code = p_region)
        ORDER BY i.due_at, i.id
        LIMIT p_limit
        FOR UPDATE OF i SKIP LOCKED
    LOOP
        lvl := r.handling_level;
        due := r.due_at;
        WHILE due <= p_now AND lvl > 1 LOOP
            lvl := lvl - 1;
            INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
            VALUES (r.id, r.region_code, due, 'escalate',
                    CASE WHEN lvl = r.handling_level - 1 THEN r.state ELSE 'accepted' END,
                    'accepted', lvl, 'system', 'deadline missed')
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS added = ROW_COUNT;
            escalations := escalations + added;
            due := incident_deadline(lvl, due, r.timezone);
        END LOOP;
        UPDATE incident SET handling_level = lvl, due_at = due, state = 'accepted' WHERE id = r.id;
        incidents := incidents + 1;
    END LOOP;
    RETURN NEXT;
END $$;

-- The one-call form (kept for anyone calling it): every overdue incident in one transaction.
CREATE OR REPLACE FUNCTION incident_escalate_due(p_now timestamptz DEFAULT now(), p_region char(6) DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    SELECT escalations FROM incident_escalate_batch(p_now, p_region, NULL)
$$;
