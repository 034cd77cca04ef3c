-- 0048 a OneMap database survives pg_dump and pg_restore.
--
-- pg_restore runs with an empty search_path. A SQL function whose body is a string is parsed when
-- it is called, so incident_phase's call of incident_is_open (unqualified) was not found when the
-- restore filled incident_state's generated phase column: the restore stopped there, and a
-- county's backup could not be read back. SQL-standard bodies (RETURN …) are parsed once, here,
-- and refer to the functions they call by identity, not by name; they are still inlined into the
-- queries that call them. Same results: the bodies are unchanged.

CREATE OR REPLACE FUNCTION incident_phase(state text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN incident_is_open(state) THEN 'open'
            WHEN state IN ('resolved', 'verified') THEN 'resolved'
            WHEN state IN ('closed', 'rejected') THEN 'closed'
       END;

CREATE OR REPLACE FUNCTION incident_is_overdue(state text, due_at timestamptz, at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN incident_is_open(state) AND due_at <= at;
