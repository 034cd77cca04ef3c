-- 0025 bulletins (周分析、月汇总): each generated weekly or monthly bulletin of a unit, as PDF or
-- XLSX, kept under var/bulletins/<id>/ (folders 0700, files 0600) and listed from here. A row is
-- written once the file is complete; rows are never rewritten (the app may only add them).
CREATE TABLE bulletin (
    id           uuid PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    unit_code    text COLLATE "C" NOT NULL,
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(W[0-9]{2}|[0-9]{2})$'),
    format       text NOT NULL CHECK (format IN ('pdf', 'xlsx')),
    lang         text NOT NULL CHECK (lang IN ('zh', 'en')),
    file_name    text NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    scheduled    boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL
);
CREATE INDEX bulletin_unit_idx ON bulletin (region_code, unit_code, created_at DESC);

DO $$ BEGIN
    REVOKE ALL ON bulletin FROM onemap_app;
    GRANT SELECT, INSERT ON bulletin TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
