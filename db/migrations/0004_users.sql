-- 0004 users: accounts with a role and a jurisdiction, API tokens, and the append-only audit log.
-- A user's jurisdiction is one grid unit at any level; the user sees only that unit's subtree
-- (code LIKE unit_code || '%'). Deleting a region removes its users and their tokens, but a
-- single unit, department or worker a user points at cannot be deleted from under the user
-- (NO ACTION is checked at the end of the statement, so the region cascade still works).

CREATE TABLE app_user (
    id               bigserial PRIMARY KEY,
    region_code      char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    username         text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    display_name     text NOT NULL DEFAULT '',
    role             text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'leader', 'analyst',
                                                   'department', 'worker')),
    unit_code        text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    department_code  text COLLATE "C" REFERENCES department (code),
    worker_id        bigint REFERENCES grid_worker (id),
    password_hash    text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
    disabled         boolean NOT NULL DEFAULT false,
    failed_logins    smallint NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (left(unit_code, 6) = region_code),
    -- department staff belong to a department, grid workers are a worker of the roster
    CHECK ((role = 'department') = (department_code IS NOT NULL)),
    CHECK ((role = 'worker') = (worker_id IS NOT NULL))
);
CREATE INDEX app_user_region_idx ON app_user (region_code, role);

-- Bearer tokens for the field app and kiosks. Only the SHA-256 of a token is stored: the
-- token is 256 random bits, so a fast hash is enough and a stolen table yields no usable token.
CREATE TABLE api_token (
    id            bigserial PRIMARY KEY,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,  -- the user's
    user_id       bigint NOT NULL REFERENCES app_user ON DELETE CASCADE,
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    name          text NOT NULL DEFAULT '',
    read_only     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked       boolean NOT NULL DEFAULT false
);
CREATE INDEX api_token_user_idx ON api_token (user_id);

-- Who did or saw what. No foreign keys on purpose: the record outlives the users, units and
-- regions it mentions (a cascade would have to delete or rewrite audit rows).
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      bigint,
    username     text,
    action       text NOT NULL CHECK (length(action) > 0),
    object_type  text,
    object_id    text,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
    count        integer CHECK (count >= 0)
);
CREATE INDEX audit_log_region_at_idx ON audit_log (region_code, at);
CREATE INDEX audit_log_user_at_idx ON audit_log (user_id, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- Row triggers do not fire on TRUNCATE.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
