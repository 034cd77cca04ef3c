-- 0013 sessions: browser sessions held by the server (so they can be ended), and login throttling
-- that an anonymous caller cannot turn into a lockout of someone else.
--
-- A browser's signed cookie carries only a random session id; the row here says whether it is
-- alive. Logout ends that row; `onemap users disable`, `onemap users passwd` and a user's own
-- password change end every row of the account. Every request and every open live stream checks
-- the row, so an ended session stops working at once (a live stream within its check interval).
-- Only the SHA-256 of the id is stored: a copy of this table opens no session.

CREATE TABLE user_session (
    id_sha256     bytea PRIMARY KEY CHECK (length(id_sha256) = 32),
    user_id       bigint NOT NULL REFERENCES app_user ON DELETE CASCADE,
    region_code   char(6) NOT NULL,
    read_only     boolean NOT NULL DEFAULT false,   -- a kiosk's session (from a read-only token)
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    idle_seconds  integer NOT NULL CHECK (idle_seconds > 0),   -- ends after this long unused
    expires_at    timestamptz NOT NULL,                        -- and at this time regardless
    ended_at      timestamptz,
    ended_why     text CHECK (ended_why IN ('logout', 'disabled', 'password', 'login_elsewhere', 'admin')),
    address       inet,
    CHECK ((ended_at IS NULL) = (ended_why IS NULL))
);
CREATE INDEX user_session_live_idx ON user_session (user_id) WHERE ended_at IS NULL;

-- Failed logins, one row each (form, HTTP basic, bearer token, Open311 api_key, kiosk token).
-- Throttling counts them in a sliding window per (account, address) and per address, so five
-- wrong passwords from one address lock that address out of that account, never the account's
-- owner at their own address. `username` is what was typed (lower-cased), known or not.
CREATE TABLE login_failure (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    address   inet,
    username  text,              -- NULL for a token that matched no account
    user_id   bigint REFERENCES app_user ON DELETE CASCADE,
    path      text NOT NULL CHECK (path IN ('form', 'basic', 'bearer', 'api_key', 'kiosk'))
);
CREATE INDEX login_failure_address_idx ON login_failure (address, at);
CREATE INDEX login_failure_user_idx ON login_failure (username, address, at);

-- Addresses each account signed in from with its password (form or HTTP basic): the per-account
-- limit never refuses these, so a botnet cannot lock the owner out of their usual machine.
CREATE TABLE login_known (
    user_id  bigint NOT NULL REFERENCES app_user ON DELETE CASCADE,
    address  inet NOT NULL,
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, address)
);

-- The application role (0003) reads and writes these; failures are pruned by age.
DO $$ BEGIN
    GRANT SELECT, INSERT, UPDATE ON user_session TO onemap_app;
    GRANT SELECT, INSERT, DELETE ON login_failure TO onemap_app;
    GRANT USAGE ON SEQUENCE login_failure_id_seq TO onemap_app;
    GRANT SELECT, INSERT, UPDATE ON login_known TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
