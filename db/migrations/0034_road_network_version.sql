-- 0034 the version of each region's road network, for the warm in-memory routing graph
-- (data/routing/graph.py): every statement that changes road_edge gives the regions it touched a
-- new version, in the same transaction. A server process that holds a region's graph compares the
-- version it loaded with the one a one-row query reads before each route, and reloads when they
-- differ.
--
-- Versions come from a sequence, so a version is never handed out twice: a graph loaded inside a
-- transaction that changed roads and then rolled back can never be taken for a committed one.

CREATE SEQUENCE road_network_version_seq;

CREATE TABLE road_network (
    region_code  char(6) PRIMARY KEY REFERENCES region ON DELETE CASCADE,
    version      bigint NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO road_network (region_code, version)
SELECT region_code, nextval('road_network_version_seq') FROM (SELECT DISTINCT region_code FROM road_edge) r;

-- Statement level: a COPY or an import of 100k edges bumps each region once.
CREATE FUNCTION road_network_touch() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE road_network SET version = nextval('road_network_version_seq'), changed_at = now();
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO road_network AS r (region_code, version)
        SELECT region_code, nextval('road_network_version_seq') FROM (SELECT DISTINCT region_code FROM new_rows) n
        ON CONFLICT (region_code) DO UPDATE SET version = excluded.version, changed_at = now();
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO road_network AS r (region_code, version)
        SELECT region_code, nextval('road_network_version_seq') FROM (SELECT DISTINCT region_code FROM old_rows) o
        ON CONFLICT (region_code) DO UPDATE SET version = excluded.version, changed_at = now();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER road_network_insert AFTER INSERT ON road_edge
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION road_network_touch();
CREATE TRIGGER road_network_update AFTER UPDATE ON road_edge
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION road_network_touch();
CREATE TRIGGER road_network_delete AFTER DELETE ON road_edge
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION road_network_touch();
CREATE TRIGGER road_network_truncate AFTER TRUNCATE ON road_edge
    FOR EACH STATEMENT EXECUTE FUNCTION road_network_touch();

-- The app reads versions; only the owner's road imports (through the trigger) write them.
DO $$ BEGIN
    REVOKE ALL ON road_network FROM onemap_app;
    GRANT SELECT ON road_network TO onemap_app;
    REVOKE ALL ON SEQUENCE road_network_version_seq FROM onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
