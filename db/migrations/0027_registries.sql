-- 0027 the "9+X" base registries of GB/T 31000-2015 (实有人口, 实有房屋, 特殊人群, 组织, 场所,
-- 学校, 矛盾纠纷, 护路护线) and the local "X" record types declared as data. Every table carries
-- region_code and is tied to a level-4 grid cell. ID numbers and phones are stored here only
-- masked (and the ID as a keyed hash for look-up); the clear values live in reg_person_secret
-- (0028), which the app role cannot read.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- 实有房屋: a building or dwelling, a point inside its cell.
CREATE TABLE reg_house (
    id           bigserial PRIMARY KEY,
    uid          uuid NOT NULL UNIQUE,               -- made by the client: the idempotency key
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    address      text NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    use          text NOT NULL CHECK (use IN ('residential', 'commercial', 'mixed', 'public', 'industrial',
                                             'agricultural', 'other')),
    floors       smallint CHECK (floors BETWEEN 1 AND 200),
    geom         geometry(Point, 4326) NOT NULL,
    synthetic    boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (left(cell_code, 6) = region_code)
);
CREATE INDEX reg_house_cell_idx ON reg_house (cell_code);
CREATE INDEX reg_house_geom_idx ON reg_house USING gist (geom);

CREATE TABLE reg_household (
    id           bigserial PRIMARY KEY,
    uid          uuid NOT NULL UNIQUE,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    house_id     bigint NOT NULL REFERENCES reg_house ON DELETE CASCADE,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind         text NOT NULL DEFAULT 'family' CHECK (kind IN ('family', 'collective')),
    synthetic    boolean NOT NULL DEFAULT false,
    moved_out_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (left(cell_code, 6) = region_code)
);
CREATE INDEX reg_household_house_idx ON reg_household (house_id);
CREATE INDEX reg_household_cell_idx ON reg_household (cell_code);

-- 实有人口. Sex and birth date come from the ID number when there is one (domain/idcard.py).
CREATE TABLE reg_person (
    id                  bigserial PRIMARY KEY,
    uid                 uuid NOT NULL UNIQUE,
    region_code         char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    household_id        bigint REFERENCES reg_household ON DELETE SET NULL,
    cell_code           text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    sex                 char(1) CHECK (sex IN ('M', 'F')),
    birth_date          date,
    ethnicity           text NOT NULL DEFAULT '汉族' CHECK (length(ethnicity) BETWEEN 1 AND 20),
    residence           text NOT NULL DEFAULT 'registered'
                        CHECK (residence IN ('registered', 'migrant', 'overseas', 'unregistered')),
    registered_address  text NOT NULL DEFAULT '' CHECK (length(registered_address) <= 200),
    relation            text NOT NULL DEFAULT '' CHECK (length(relation) <= 20),  -- to the head: 户主, 配偶 …
    id_masked           text,          -- 150***********123X
    id_hash             text,          -- keyed HMAC of the ID number (reg_id_hash), for look-up
    phone_masked        text,          -- 138****5678
    moved_out_at        timestamptz,   -- left the county: anonymised after the retention period
    anonymised          boolean NOT NULL DEFAULT false,
    synthetic           boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (left(cell_code, 6) = region_code)
);
CREATE INDEX reg_person_household_idx ON reg_person (household_id);
CREATE INDEX reg_person_cell_idx ON reg_person (cell_code);
CREATE UNIQUE INDEX reg_person_id_hash_idx ON reg_person (region_code, id_hash) WHERE id_hash IS NOT NULL;

-- 特殊人群 and their follow-ups (帮扶 help / 管控 control).
CREATE TABLE reg_special_group (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    person_id    bigint NOT NULL REFERENCES reg_person ON DELETE CASCADE,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind         text NOT NULL CHECK (kind IN ('released_prisoner', 'community_correction', 'mental_disorder',
                                               'drug_user', 'hiv', 'at_risk_youth')),
    since        date NOT NULL,
    ended_on     date,
    synthetic    boolean NOT NULL DEFAULT false,
    UNIQUE (person_id, kind)
);
CREATE INDEX reg_special_group_cell_idx ON reg_special_group (cell_code);

CREATE TABLE reg_followup (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    special_id   bigint NOT NULL REFERENCES reg_special_group ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('help', 'control')),
    at           timestamptz NOT NULL,
    user_id      bigint REFERENCES app_user ON DELETE SET NULL,
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    synthetic    boolean NOT NULL DEFAULT false
);
CREATE INDEX reg_followup_special_idx ON reg_followup (special_id, at);

-- 组织: governance organisations (综治组织), private businesses (非公有制经济组织), social organisations.
CREATE TABLE reg_org (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind         text NOT NULL CHECK (kind IN ('governance', 'business', 'social')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    credit_code  text CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),  -- 统一社会信用代码
    address      text NOT NULL DEFAULT '',
    staff_count  integer CHECK (staff_count >= 0),
    geom         geometry(Point, 4326),
    synthetic    boolean NOT NULL DEFAULT false
);
CREATE TABLE reg_org_staff (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    org_id       bigint NOT NULL REFERENCES reg_org ON DELETE CASCADE,
    person_id    bigint REFERENCES reg_person ON DELETE SET NULL,
    name         text NOT NULL,
    post         text NOT NULL DEFAULT ''
);

-- 治安重点场所 (public-order places) and 学校及周边.
CREATE TABLE reg_place (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind         text NOT NULL CHECK (kind IN ('hotel', 'internet_cafe', 'entertainment', 'bathhouse', 'pawnshop',
                                               'scrap', 'other')),
    name         text NOT NULL,
    org_id       bigint REFERENCES reg_org ON DELETE SET NULL,
    geom         geometry(Point, 4326) NOT NULL,
    synthetic    boolean NOT NULL DEFAULT false
);
CREATE TABLE reg_school (
    id            bigserial PRIMARY KEY,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    cell_code     text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    facility_id   bigint REFERENCES facility ON DELETE SET NULL,
    name          text NOT NULL,
    stage         text NOT NULL DEFAULT 'primary' CHECK (stage IN ('kindergarten', 'primary', 'middle', 'high',
                                                                   'vocational', 'other')),
    students      integer CHECK (students >= 0),
    surroundings  text NOT NULL DEFAULT '',      -- 周边治安情况
    geom          geometry(Point, 4326) NOT NULL,
    synthetic     boolean NOT NULL DEFAULT false
);

-- 矛盾纠纷 with their mediation (a mediation station) and the incident they came in as.
CREATE TABLE reg_dispute (
    id             bigserial PRIMARY KEY,
    region_code    char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    cell_code      text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind           text NOT NULL,
    summary        text NOT NULL DEFAULT '',
    parties        smallint NOT NULL DEFAULT 2 CHECK (parties >= 1),
    state          text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'mediating', 'settled', 'referred')),
    mediation_id   bigint REFERENCES facility ON DELETE SET NULL,
    incident_id    uuid REFERENCES incident ON DELETE SET NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    settled_at     timestamptz,
    synthetic      boolean NOT NULL DEFAULT false
);

-- 护路护线: roads, railways, pipelines and power lines under protection, per responsible unit.
CREATE TABLE reg_line (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    unit_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    kind         text NOT NULL CHECK (kind IN ('road', 'railway', 'pipeline', 'power', 'other')),
    name         text NOT NULL,
    geom         geometry(MultiLineString, 4326),
    synthetic    boolean NOT NULL DEFAULT false
);

-- "X": local record types declared as data (domain/registry.py checks the field list and each record).
CREATE TABLE reg_extension_kind (
    code         text COLLATE "C" NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    name         text NOT NULL,
    name_en      text NOT NULL DEFAULT '',
    fields       jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'array' AND jsonb_array_length(fields) > 0),
    personal     boolean NOT NULL DEFAULT false,   -- records name people: shown like the people registry
    PRIMARY KEY (region_code, code)
);
CREATE TABLE reg_extension_record (
    id           bigserial PRIMARY KEY,
    uid          uuid NOT NULL UNIQUE,
    region_code  char(6) NOT NULL,
    kind_code    text COLLATE "C" NOT NULL,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    data         jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    geom         geometry(Point, 4326),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (region_code, kind_code) REFERENCES reg_extension_kind ON DELETE CASCADE
);

-- An incident and the people and house involved.
CREATE TABLE reg_incident_link (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    incident_id  uuid NOT NULL REFERENCES incident ON DELETE CASCADE,
    person_id    bigint REFERENCES reg_person ON DELETE CASCADE,
    house_id     bigint REFERENCES reg_house ON DELETE CASCADE,
    user_id      bigint REFERENCES app_user ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((person_id IS NULL) <> (house_id IS NULL))
);
CREATE UNIQUE INDEX reg_incident_link_person_idx ON reg_incident_link (incident_id, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX reg_incident_link_house_idx ON reg_incident_link (incident_id, house_id) WHERE house_id IS NOT NULL;
CREATE INDEX reg_incident_link_p_idx ON reg_incident_link (person_id);
CREATE INDEX reg_incident_link_h_idx ON reg_incident_link (house_id);

-- 日走访 per household: a visit of the field log (field_visit, 0016) linked to the household.
CREATE TABLE reg_household_visit (
    visit_id      uuid PRIMARY KEY REFERENCES field_visit ON DELETE CASCADE,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    household_id  bigint NOT NULL REFERENCES reg_household ON DELETE CASCADE
);
CREATE INDEX reg_household_visit_hh_idx ON reg_household_visit (household_id);

-- Per-cell counts from the registry: people living there now (not moved out), households, houses.
CREATE VIEW reg_cell_counts AS
SELECT g.code AS cell_code, g.region_code,
       coalesce(p.n, 0)::int AS population, coalesce(h.n, 0)::int AS households, coalesce(b.n, 0)::int AS houses
FROM grid_unit g
LEFT JOIN (SELECT cell_code, count(*) AS n FROM reg_person WHERE moved_out_at IS NULL GROUP BY cell_code) p
       ON p.cell_code = g.code
LEFT JOIN (SELECT cell_code, count(*) AS n FROM reg_household WHERE moved_out_at IS NULL GROUP BY cell_code) h
       ON h.cell_code = g.code
LEFT JOIN (SELECT cell_code, count(*) AS n FROM reg_house GROUP BY cell_code) b ON b.cell_code = g.code
WHERE g.level = 4;
