-- 0023 return visits and satisfaction (调后回访): after a case is resolved, the reporter's grid
-- worker (or the back office) calls or visits the resident and records whether they were
-- satisfied (satisfied / basically satisfied / not satisfied, or not reachable). One visit per
-- resolution: `round` is the incident's reopen count when it was visited, so a reopened and
-- re-resolved case is visited again. "Not satisfied" may reopen the case through the state
-- machine (incident_act 'reopen'). Visits are history: appended, never rewritten.
CREATE TABLE return_visit (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    incident_id  uuid NOT NULL REFERENCES incident ON DELETE CASCADE,
    round        smallint NOT NULL,
    cell_code    text COLLATE "C" NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('satisfied', 'basic', 'unsatisfied', 'unreachable')),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    visited_at   timestamptz NOT NULL,
    actor        text NOT NULL,
    reopened     boolean NOT NULL DEFAULT false,
    UNIQUE (incident_id, round)
);
CREATE INDEX return_visit_region_at_idx ON return_visit (region_code, visited_at);

-- Record a return visit of a resolved (or verified, closed) case; with p_reopen and outcome
-- 'unsatisfied' the case is reopened in the same transaction. Returns the visit's id.
-- Errors: OM404 unknown, OM409 not resolved or already visited for this resolution,
-- OM422 reopen asked for a visit that was not 'unsatisfied'.
CREATE FUNCTION incident_return_visit(p_id uuid, p_outcome text, p_note text, p_actor text,
                                      p_reopen boolean DEFAULT false, p_now timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    cur incident;
    vid bigint;
BEGIN
    SELECT * INTO cur FROM incident WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'incident % not found', p_id USING ERRCODE = 'OM404';
    END IF;
    IF cur.resolved_at IS NULL OR cur.merged_into IS NOT NULL OR cur.state NOT IN ('resolved', 'verified', 'closed') THEN
        RAISE EXCEPTION 'incident % is not resolved (%): a return visit follows the resolution', p_id, cur.state
            USING ERRCODE = 'OM409', DETAIL = '';
    END IF;
    IF p_reopen AND p_outcome <> 'unsatisfied' THEN
        RAISE EXCEPTION 'only a visit that found the resident not satisfied reopens the case' USING ERRCODE = 'OM422';
    END IF;
    INSERT INTO return_visit (region_code, incident_id, round, cell_code, outcome, note, visited_at, actor, reopened)
    VALUES (cur.region_code, p_id, cur.reopened, cur.cell_code, p_outcome, coalesce(p_note, ''), p_now, p_actor,
            p_reopen)
    ON CONFLICT (incident_id, round) DO NOTHING
    RETURNING id INTO vid;
    IF vid IS NULL THEN
        RAISE EXCEPTION 'incident % was already visited after this resolution', p_id USING ERRCODE = 'OM409', DETAIL = '';
    END IF;
    INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
    VALUES (p_id, cur.region_code, p_now, 'return_visit', cur.state, cur.state, cur.handling_level, p_actor,
            p_outcome || CASE WHEN coalesce(p_note, '') = '' THEN '' ELSE ': ' || p_note END);
    IF p_reopen THEN
        PERFORM incident_act(p_id, 'reopen', p_actor, 'return visit: not satisfied', NULL, NULL, p_now);
    END IF;
    RETURN vid;
END $$;

DO $$ BEGIN
    REVOKE ALL ON return_visit FROM onemap_app;
    GRANT SELECT, INSERT ON return_visit TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
