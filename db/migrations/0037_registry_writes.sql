-- 0037 the field app's registry forms (issue #15): every write from a phone's outbox carries its own
-- client UUID (the Idempotency-Key header), so a replay is the same write.
--
-- * reg_write: one row per write key, with the fingerprint of the validated body, the caller and
--   the answer given. The same key again with the same body gets the same answer and writes
--   nothing; the same key with another body (or from another account) is refused (409). A
--   record's own uid still names the record: an edit is a new write key with the record's uid.
--   Appended, never rewritten (the app role may only read and insert).
-- * reg_household_visit.flags: the optional flags of a household visit (日走访): nobody home,
--   needs help, a dispute or a hazard found, the household's details changed.

CREATE TABLE reg_write (
    key             uuid PRIMARY KEY,
    region_code     char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    user_id         bigint REFERENCES app_user ON DELETE SET NULL,
    kind            text NOT NULL CHECK (kind IN ('house', 'household', 'person')),
    record_id       bigint NOT NULL,
    payload_sha256  text NOT NULL CHECK (payload_sha256 ~ '^[0-9a-f]{64}$'),
    status          smallint NOT NULL CHECK (status IN (200, 201)),
    answer          jsonb NOT NULL CHECK (jsonb_typeof(answer) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reg_write_record_idx ON reg_write (kind, record_id);

ALTER TABLE reg_household_visit
    ADD COLUMN flags text[] NOT NULL DEFAULT '{}'
        CHECK (flags <@ ARRAY['nobody_home', 'needs_help', 'dispute', 'hazard', 'changed']::text[]);

DO $$ BEGIN
    REVOKE ALL ON reg_write FROM onemap_app;
    GRANT SELECT, INSERT ON reg_write TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
