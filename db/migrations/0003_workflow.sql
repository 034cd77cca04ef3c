-- 0003 the closed loop in the database: the state machine, deadlines, escalation exactly once,
-- photos, idempotent reports, live notifications, and a restricted application role.
-- Every path (API, dashboard, CLI, a second server) goes through these functions, so none can
-- skip a rule.

-- The state machine (GB/T 30428: collect → open → dispatch → handle → report back → verify → close).
-- Escalation hands the case to the next level's back office, which accepts it afresh.
CREATE TABLE incident_transition (
    action      text NOT NULL,
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    PRIMARY KEY (action, from_state)
);
INSERT INTO incident_transition (action, from_state, to_state) VALUES
    ('accept',   'new',         'accepted'),
    ('reject',   'new',         'rejected'),
    ('reject',   'accepted',    'rejected'),
    ('dispatch', 'new',         'dispatched'),
    ('dispatch', 'accepted',    'dispatched'),
    ('start',    'accepted',    'in_progress'),
    ('start',    'dispatched',  'in_progress'),
    ('arrive',   'dispatched',  'on_site'),
    ('arrive',   'in_progress', 'on_site'),
    ('resolve',  'in_progress', 'resolved'),
    ('resolve',  'on_site',     'resolved'),
    ('verify',   'resolved',    'verified'),
    ('close',    'verified',    'closed'),
    ('reopen',   'resolved',    'accepted'),
    ('reopen',   'verified',    'accepted'),
    ('reopen',   'closed',      'accepted'),
    ('reopen',   'rejected',    'accepted'),
    ('escalate', 'new',         'accepted'),
    ('escalate', 'accepted',    'accepted'),
    ('escalate', 'dispatched',  'accepted'),
    ('escalate', 'in_progress', 'accepted'),
    ('escalate', 'on_site',     'accepted');

-- A report's payload fingerprint: a retry with the same key must carry the same payload.
ALTER TABLE incident ADD COLUMN payload_sha256 text;
-- How many times a case was reopened (GB/T 30428's rework rate).
ALTER TABLE incident ADD COLUMN reopened smallint NOT NULL DEFAULT 0;

-- Each level is reached at most once per incident, whoever escalates and however often they try.
CREATE UNIQUE INDEX incident_event_escalate_once ON incident_event (incident_id, level)
    WHERE action = 'escalate';

CREATE TABLE incident_photo (
    id            bigserial PRIMARY KEY,
    incident_id   uuid NOT NULL REFERENCES incident ON DELETE CASCADE,
    region_code   char(6) NOT NULL,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes    integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    sha256        text NOT NULL,
    data          bytea NOT NULL,
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    uploaded_by   text,
    UNIQUE (incident_id, sha256)
);

-- The deadline of a level, counted from when the case reached it (the seed's closed loop):
-- grid worker by the end of that day (local time), village 3 days, town 5 days, banner 7 days.
CREATE FUNCTION incident_deadline(p_level smallint, p_from timestamptz, p_tz text DEFAULT 'Asia/Shanghai')
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_level
        WHEN 4 THEN (date_trunc('day', p_from AT TIME ZONE p_tz) + interval '1 day') AT TIME ZONE p_tz
        WHEN 3 THEN p_from + interval '3 days'
        WHEN 2 THEN p_from + interval '5 days'
        ELSE p_from + interval '7 days'
    END
$$;

-- Apply one action to one incident, under a row lock; returns the updated row.
-- Errors: OM404 unknown incident, OM409 illegal transition (message lists the allowed actions),
-- OM422 bad argument (unknown department, nothing to escalate to).
CREATE FUNCTION incident_act(p_id uuid, p_action text, p_actor text, p_note text DEFAULT NULL,
                             p_geom geometry DEFAULT NULL, p_department text DEFAULT NULL,
                             p_now timestamptz DEFAULT now())
RETURNS incident LANGUAGE plpgsql AS $$
DECLARE
    cur incident;
    prev text;
    nxt text;
    allowed text;
    tz text;
BEGIN
    SELECT * INTO cur FROM incident WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'incident % not found', p_id USING ERRCODE = 'OM404';
    END IF;
    prev := cur.state;
    SELECT to_state INTO nxt FROM incident_transition WHERE action = p_action AND from_state = cur.state;
    IF nxt IS NULL THEN
        SELECT string_agg(action, ',' ORDER BY action) INTO allowed
        FROM incident_transition WHERE from_state = cur.state;
        RAISE EXCEPTION 'action % is not allowed in state %', p_action, cur.state
            USING ERRCODE = 'OM409', DETAIL = coalesce(allowed, '');
    END IF;
    SELECT timezone INTO tz FROM region WHERE region_code = cur.region_code;

    IF p_action = 'escalate' THEN
        IF cur.handling_level <= 1 THEN
            RAISE EXCEPTION 'incident % is already handled at the top level', p_id USING ERRCODE = 'OM422';
        END IF;
        cur.handling_level := cur.handling_level - 1;
        cur.due_at := incident_deadline(cur.handling_level, p_now, tz);
    ELSIF p_action = 'dispatch' THEN
        IF p_department IS NULL THEN
            SELECT d.code INTO cur.department_code FROM department d
            JOIN incident_category c ON c.department_kind = d.kind
            WHERE c.code = cur.category_code AND d.region_code = cur.region_code;
        ELSIF EXISTS (SELECT 1 FROM department WHERE code = p_department AND region_code = cur.region_code) THEN
            cur.department_code := p_department;
        ELSE
            RAISE EXCEPTION 'unknown department %', p_department USING ERRCODE = 'OM422';
        END IF;
    ELSIF p_action = 'resolve' THEN
        cur.resolved_at := p_now;
        cur.solved_level := cur.handling_level;
    ELSIF p_action = 'close' THEN
        cur.closed_at := p_now;
    ELSIF p_action = 'reopen' THEN
        cur.resolved_at := NULL;
        cur.solved_level := NULL;
        cur.closed_at := NULL;
        cur.reopened := cur.reopened + 1;
        cur.due_at := incident_deadline(cur.handling_level, p_now, tz);
    END IF;

    UPDATE incident SET state = nxt, handling_level = cur.handling_level, due_at = cur.due_at,
        department_code = cur.department_code, resolved_at = cur.resolved_at,
        solved_level = cur.solved_level, closed_at = cur.closed_at, reopened = cur.reopened
    WHERE id = p_id RETURNING * INTO cur;
    INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note, geom)
    VALUES (p_id, cur.region_code, p_now, p_action, prev, nxt, cur.handling_level, p_actor, p_note, p_geom);
    RETURN cur;
END $$;

-- Escalate every open incident whose deadline has passed, one level per missed deadline, each
-- exactly once: rows are locked and re-checked, concurrent runners skip what another holds, and
-- a level's new deadline counts from the missed one (so a clock jump escalates as often as it
-- should, never more). Returns the number of escalations made.
CREATE FUNCTION incident_escalate_due(p_now timestamptz DEFAULT now(), p_region char(6) DEFAULT NULL)
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
        WHERE i.state IN ('new', 'accepted', 'dispatched', 'in_progress', 'on_site')
          AND i.due_at <= p_now AND i.handling_level > 1
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

-- Live feed: one notification per timeline event, sent when the transaction commits; a bulk load
-- sends one summary instead of flooding listeners.
CREATE FUNCTION incident_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM new_events;
    IF n > 200 THEN
        PERFORM pg_notify('onemap_events', json_build_object('bulk', n)::text);
        RETURN NULL;
    END IF;
    PERFORM pg_notify('onemap_events', json_build_object(
        'incident_id', e.incident_id, 'region_code', e.region_code, 'action', e.action,
        'state', e.to_state, 'level', e.level, 'cell_code', i.cell_code, 'at', e.at)::text)
    FROM new_events e JOIN incident i ON i.id = e.incident_id;
    RETURN NULL;
END $$;
CREATE TRIGGER incident_event_notify AFTER INSERT ON incident_event
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION incident_event_notify();

-- The role the web application runs as (SET ROLE on its connections): it may add to the timeline
-- but never rewrite or delete it. Roles are cluster-wide, so create it only once, and carry on
-- without it where the migrating user may not create roles (the trigger still guards the table).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onemap_app') THEN
        CREATE ROLE onemap_app NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA public TO onemap_app');
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO onemap_app;
    GRANT INSERT, UPDATE ON incident, worker_position, incident_photo TO onemap_app;
    GRANT INSERT ON incident_event TO onemap_app;
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO onemap_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON incident_event FROM onemap_app;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not created (no CREATEROLE): the app runs as the connecting user';
END $$;
