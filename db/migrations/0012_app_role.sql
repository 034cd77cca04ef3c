-- 0012 least privilege: the running server connects as onemap_app (db.core.app_dsn), never as the
-- owner. Migrations, the demo loader, imports and the command line run as the owner.
--
-- onemap_app may read everything and write what the running app writes, but it may not:
--   UPDATE, DELETE or TRUNCATE audit_log or incident_event (the record and the timeline),
--   DELETE or TRUNCATE incident (an incident and its timeline stay),
--   write the roll-ups except through the SECURITY DEFINER trigger and fold of 0011,
--   change reference data (regions, grid, categories, the state machine, roads, facilities),
--   ALTER anything or DISABLE TRIGGER (only an owner may), SET session_replication_role (only a
--   superuser may) — so the append-only triggers cannot be switched off from the app.
-- TRUNCATE, REFERENCES and TRIGGER are granted on no table. Tables that later migrations create
-- (run by the same owner) get SELECT, INSERT, UPDATE, DELETE by default privileges below; a
-- migration that adds history must REVOKE like this one does.
--
-- Roles are cluster-wide: the role is created here if the migrating owner may (the local cluster
-- also makes it a login, db/cluster.py); on a managed server the administrator creates it first
-- (README, Database).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'onemap_app') THEN
        CREATE ROLE onemap_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'role onemap_app does not exist and % may not create it', current_user
        USING HINT = 'As an administrator: CREATE ROLE onemap_app LOGIN PASSWORD ''…''; then run the '
                     'migrations again (README, Database: least privilege).';
END $$;

DO $$
DECLARE
    sup boolean;
BEGIN
    SELECT rolsuper INTO sup FROM pg_roles WHERE rolname = 'onemap_app';
    IF sup THEN
        RAISE EXCEPTION 'role onemap_app is a superuser: it must not be (ALTER ROLE onemap_app NOSUPERUSER)';
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO onemap_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM onemap_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM onemap_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO onemap_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO onemap_app;

-- History: appended, never rewritten.
REVOKE UPDATE, DELETE ON incident_event, audit_log FROM onemap_app;
REVOKE DELETE ON incident, incident_photo, worker_position FROM onemap_app;
REVOKE UPDATE ON worker_position FROM onemap_app;  -- (a photo's re-upload is an upsert: UPDATE stays)
-- Roll-ups: only through incident_rollup_sync / incident_rollup_fold (SECURITY DEFINER, 0011).
REVOKE INSERT, UPDATE, DELETE ON incident_rollup, incident_rollup_folded, incident_rollup_delta FROM onemap_app;
-- Reference data and the schema: written by migrations, the demo loader and importers (owner).
REVOKE INSERT, UPDATE, DELETE ON schema_migration, spatial_ref_sys, region, grid_unit, grid_cell_piece,
    cell_population, department, incident_category, incident_transition, incident_state, facility,
    grid_worker, road_edge, road_vertex FROM onemap_app;
-- Accounts: the app records logins and tokens; it removes none (disable and revoke are updates).
REVOKE DELETE ON app_user, api_token FROM onemap_app;

-- Tables later migrations create (as this owner) are usable by the app unless they say otherwise.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO onemap_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO onemap_app;
