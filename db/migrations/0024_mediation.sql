-- 0024 mediation cases, the seed's "1433" process: a dispute is accepted, assigned to a
-- mediation station (facility kind mediation_station) or an expert team, mediated, ends in an
-- agreement or a referral to court, and is followed by a return visit. The case rides on the
-- incident's state machine: each step is an incident_act action (accept, dispatch, start,
-- resolve) whose note says what the step was, and the return visit is a return_visit row; this
-- table keeps what the timeline does not (kind, station or team, agreement) and the stage.
CREATE TABLE mediation_case (
    id            bigserial PRIMARY KEY,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    incident_id   uuid NOT NULL UNIQUE REFERENCES incident ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('grassland', 'marriage_family', 'neighbour', 'property',
                                                'labour', 'other')),
    stage         text NOT NULL DEFAULT 'accepted'
                  CHECK (stage IN ('accepted', 'assigned', 'mediating', 'agreed', 'referred', 'visited')),
    station_id    bigint REFERENCES facility ON DELETE SET NULL,
    team          text CHECK (length(team) <= 200),
    outcome_text  text CHECK (length(outcome_text) <= 4000),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    created_by    text NOT NULL
);
CREATE INDEX mediation_case_region_idx ON mediation_case (region_code, stage);

DO $$ BEGIN
    REVOKE ALL ON mediation_case FROM onemap_app;
    GRANT SELECT, INSERT, UPDATE ON mediation_case TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
