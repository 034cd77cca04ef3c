-- 0010 an incident's phase, defined once. Every query, trigger and Python module reads these.
--
-- The meaning (also in the README, "The closed loop"):
--   open      new, accepted, dispatched, in_progress, on_site — someone still has to act on the
--             ground; this is what the KPIs count as open, what escalation climbs, what Open311
--             calls "open", and what the export filter state=open returns.
--   resolved  resolved, verified — the work is done and reported back; the back office has still
--             to verify and close. Not open (nobody is late on the ground any more), not closed
--             (it can still be reopened by the verifier).
--   closed    closed, rejected — the case is finished (rejected: finished without handling).
--   overdue   open at or after its deadline (due_at <= at). The deadline is a handling deadline:
--             a case resolved in time is never overdue, even while verification waits; escalation
--             escalates exactly the overdue cases; "late" in the on-time rate means resolved after
--             the deadline in force when it was resolved.
-- Open311's status is "open" for the open phase and "closed" for resolved and closed (GeoReport
-- v2: closed = the request has been addressed), as FixMyStreet does with its open_states().
--
-- The functions are SQL-language and IMMUTABLE, so the planner inlines them (they cost nothing
-- per row) and partial indexes can use them. Each state is named exactly once below.

CREATE FUNCTION incident_is_open(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT state IN ('new', 'accepted', 'dispatched', 'in_progress', 'on_site')
$$;

CREATE FUNCTION incident_phase(state text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN incident_is_open(state) THEN 'open'
                WHEN state IN ('resolved', 'verified') THEN 'resolved'
                WHEN state IN ('closed', 'rejected') THEN 'closed'
           END
$$;

CREATE FUNCTION incident_is_overdue(state text, due_at timestamptz, at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT incident_is_open(state) AND due_at <= at
$$;

-- Resolved after the deadline in force when it was resolved (the on-time rate's "late").
CREATE FUNCTION incident_is_late(resolved_at timestamptz, due_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT resolved_at > due_at
$$;

-- The local calendar day of an instant in a region's time zone (roll-ups, "today").
CREATE FUNCTION local_day(at timestamptz, tz text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (at AT TIME ZONE tz)::date
$$;

-- An instant as ISO 8601 in a zone, with that zone's offset at that instant ("2026-06-15T18:30:00+08:00";
-- fractional seconds only when there are any): how every JSON surface writes times, the same text
-- as domain/clock.iso_local (tests/test_phase.py compares them). STABLE: to_char reads settings.
-- One expression without FROM, so the planner inlines it (3.5x faster than a sub-select; bench/phase.py).
CREATE FUNCTION iso_local(at timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(at AT TIME ZONE tz, CASE WHEN extract(microseconds FROM at)::bigint % 1000000 = 0
                                            THEN 'YYYY-MM-DD"T"HH24:MI:SS' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END)
           || CASE WHEN (at AT TIME ZONE tz) < (at AT TIME ZONE 'UTC')
                   THEN '-' || to_char((at AT TIME ZONE 'UTC') - (at AT TIME ZONE tz), 'HH24:MI')
                   ELSE '+' || to_char((at AT TIME ZONE tz) - (at AT TIME ZONE 'UTC'), 'HH24:MI') END
$$;

-- The states for Python and the UI: order and phase (computed by the function, so it cannot
-- differ). domain/phase.py holds the same definition; tests/test_phase.py proves them equal. The
-- words for each state live in the gettext catalogues (i18n/, msgid "states.<state>"), not here.
CREATE TABLE incident_state (
    state     text PRIMARY KEY,
    ord       smallint NOT NULL UNIQUE,
    phase     text NOT NULL GENERATED ALWAYS AS (incident_phase(state)) STORED
);
INSERT INTO incident_state (state, ord) VALUES
    ('new', 1), ('accepted', 2), ('dispatched', 3), ('in_progress', 4), ('on_site', 5),
    ('resolved', 6), ('verified', 7), ('closed', 8), ('rejected', 9);

-- Every state the state machine can reach has a phase.
DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(s, ', ') INTO missing FROM (
        SELECT from_state AS s FROM incident_transition UNION SELECT to_state FROM incident_transition) t
    WHERE s NOT IN (SELECT state FROM incident_state);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'states without a phase: %', missing;
    END IF;
END $$;

-- The partial indexes on open incidents follow the definition (they included resolved/verified).
DROP INDEX IF EXISTS incident_open_due_idx;
CREATE INDEX incident_open_due_idx ON incident (region_code, due_at) WHERE incident_is_open(state);
DROP INDEX IF EXISTS incident_open_cell_idx;
CREATE INDEX incident_open_cell_idx ON incident (cell_code) WHERE incident_is_open(state);

-- Escalation (0003) climbs exactly what is overdue.
CREATE OR REPLACE FUNCTION incident_escalate_due(p_now timestamptz DEFAULT now(), p_region char(6) DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r record;
    made integer := 0;
    tz text;
    lvl smallint;
    due timestamptz;
BEGIN
    FOR r IN
        SELECT i.id, i.state, i.handling_level, i.due_at, i.region_code FROM incident i
        WHERE incident_is_overdue(i.state, i.due_at, p_now) AND i.handling_level > 1
          AND (p_region IS NULL OR i.region_code = p_region)
        ORDER BY i.due_at
        FOR UPDATE SKIP LOCKED
    LOOP
        SELECT timezone INTO tz FROM region WHERE region_code = r.region_code;
        lvl := r.handling_level;
        due := r.due_at;
        WHILE due <= p_now AND lvl > 1 LOOP
            lvl := lvl - 1;
            INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
            VALUES (r.id, r.region_code, due, 'escalate',
                    CASE WHEN lvl = r.handling_level - 1 THEN r.state ELSE 'accepted' END,
                    'accepted', lvl, 'system', 'deadline missed')
            ON CONFLICT DO NOTHING;
            due := incident_deadline(lvl, due, tz);
            made := made + 1;
        END LOOP;
        UPDATE incident SET handling_level = lvl, due_at = due, state = 'accepted' WHERE id = r.id;
    END LOOP;
    RETURN made;
END $$;

-- The live feed (0003) carries the event id, the phase and whether the case is overdue at the
-- event, so a page need not know the state lists.
CREATE OR REPLACE FUNCTION incident_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM new_events;
    IF n > 200 THEN
        PERFORM pg_notify('onemap_events', json_build_object('bulk', n)::text);
        RETURN NULL;
    END IF;
    PERFORM pg_notify('onemap_events', json_build_object(
        'id', e.id, 'incident_id', e.incident_id, 'region_code', e.region_code, 'action', e.action,
        'state', e.to_state, 'phase', incident_phase(i.state),
        'overdue', incident_is_overdue(i.state, i.due_at, e.at),
        'level', e.level, 'cell_code', i.cell_code, 'at', e.at)::text)
    FROM new_events e JOIN incident i ON i.id = e.incident_id;
    RETURN NULL;
END $$;

-- Roll-ups (0007): the day is the region's local day (region.timezone, not a fixed zone), and
-- "late" is incident_is_late. Rebuilt once from the incidents so old rows follow the definition.
CREATE OR REPLACE FUNCTION incident_rollup_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO incident_rollup AS r
        SELECT o.cell_code, local_day(o.received_at, g.timezone), o.category_code, -count(*),
               -count(*) FILTER (WHERE o.solved_level = 4), -count(*) FILTER (WHERE o.solved_level = 3),
               -count(*) FILTER (WHERE o.solved_level = 2), -count(*) FILTER (WHERE o.solved_level = 1),
               -count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
               -coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
        FROM old_rows o JOIN region g ON g.region_code = o.region_code GROUP BY 1, 2, 3
        ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO incident_rollup AS r
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
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM incident_rollup WHERE n = 0;
    END IF;
    RETURN NULL;
END $$;

TRUNCATE incident_rollup;
INSERT INTO incident_rollup
SELECT i.cell_code, local_day(i.received_at, g.timezone), i.category_code, count(*),
       count(*) FILTER (WHERE i.solved_level = 4), count(*) FILTER (WHERE i.solved_level = 3),
       count(*) FILTER (WHERE i.solved_level = 2), count(*) FILTER (WHERE i.solved_level = 1),
       count(*) FILTER (WHERE incident_is_late(i.resolved_at, i.due_at)),
       coalesce(sum(extract(epoch FROM i.resolved_at - i.received_at)), 0)
FROM incident i JOIN region g ON g.region_code = i.region_code GROUP BY 1, 2, 3;

DO $$
BEGIN
    GRANT SELECT ON incident_state TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    NULL;
END $$;
