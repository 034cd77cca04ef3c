-- 0016 the field app: a grid worker's daily visit log (日走访), and field tokens that end with
-- the password.
--
-- A visit is created on the phone with its own UUID, so a retry from the offline queue stores it
-- once (ON CONFLICT on the id; a retry with a different payload is refused by its fingerprint).
CREATE TABLE field_visit (
    id              uuid PRIMARY KEY,
    region_code     char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES app_user ON DELETE CASCADE,
    worker_id       bigint REFERENCES grid_worker ON DELETE SET NULL,
    cell_code       text COLLATE "C",
    kind            text NOT NULL CHECK (kind IN ('household', 'place')),
    place           text NOT NULL CHECK (length(place) BETWEEN 1 AND 200),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    visited_at      timestamptz NOT NULL,
    geom            geometry(Point, 4326),
    payload_sha256  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX field_visit_user_at_idx ON field_visit (user_id, visited_at);

-- Field tokens (api_token.name = 'field', issued by POST /api/v1/field/login) are the phone's
-- session: like browser sessions they end when the account's password changes, whoever changes
-- it (`onemap users passwd`, /account/password). `onemap users disable` already revokes every token.
CREATE FUNCTION field_tokens_end_on_password() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_token SET revoked = true
    WHERE user_id = NEW.id AND name = 'field' AND NOT revoked;
    RETURN NEW;
END $$;
CREATE TRIGGER app_user_password_ends_field_tokens
    AFTER UPDATE OF password_hash ON app_user
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION field_tokens_end_on_password();

DO $$ BEGIN
    GRANT SELECT, INSERT ON field_visit TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
