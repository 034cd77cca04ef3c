-- The live feed's payload gets the incident's department, so department staff receive their own
-- department's events (with the incident id, so their console raises its alerts) instead of a bare
-- resync (domain.policy.event_visible). The payload is now defined once, here: the notify trigger
-- and the replay query (db/sql/live_events_after.sql) both call live_event_payload().
CREATE OR REPLACE FUNCTION live_event_payload(p_event bigint) RETURNS json
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT json_build_object(
        'id', e.id, 'incident_id', e.incident_id, 'region_code', e.region_code, 'action', e.action,
        'state', e.to_state, 'phase', incident_phase(i.state),
        'overdue', incident_is_overdue(i.state, i.due_at, e.at),
        'level', e.level, 'cell_code', i.cell_code, 'department_code', i.department_code, 'at', e.at)
    FROM incident_event e JOIN incident i ON i.id = e.incident_id
    WHERE e.id = p_event
$$;

CREATE OR REPLACE FUNCTION incident_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM new_events;
    IF n > 200 THEN
        PERFORM pg_notify('onemap_events', json_build_object('bulk', n)::text);
        RETURN NULL;
    END IF;
    PERFORM pg_notify('onemap_events', live_event_payload(e.id)::text) FROM new_events e ORDER BY e.id;
    RETURN NULL;
END $$;
