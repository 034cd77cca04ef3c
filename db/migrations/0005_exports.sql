-- 0005 exports: background export jobs, so a large export survives the page that started it and
-- its owner can come back for the file. The file lives under var/exports/<id>/; the row says
-- where, how far it got and whether it failed. The audit log records the finished export.
CREATE TABLE export_job (
    id           uuid PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    user_id      bigint REFERENCES app_user ON DELETE CASCADE,
    username     text NOT NULL,
    layers       text[] NOT NULL CHECK (cardinality(layers) > 0),
    format       text NOT NULL,
    crs          text NOT NULL,
    filters      jsonb NOT NULL DEFAULT '{}'::jsonb,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    total        integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    done         integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    file_name    text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX export_job_user_idx ON export_job (user_id, created_at);

DO $$
BEGIN
    GRANT SELECT, INSERT, UPDATE ON export_job TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN NULL;  -- no application role here
END $$;
