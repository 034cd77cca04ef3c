-- 0001 core: regions, the four-level grid, reference data, workers, roads, incidents.
-- Every table carries region_code (the county adcode) so one database holds many counties.
-- Codes are COLLATE "C" so that ancestor prefixes (town = left(code, 9)) use plain btree ranges.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;

CREATE TABLE region (
    region_code  char(6) PRIMARY KEY CHECK (region_code ~ '^[0-9]{6}$'),
    name         text NOT NULL,
    name_en      text,
    timezone     text NOT NULL DEFAULT 'Asia/Shanghai',
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The grid tree. GB/T 30428-style codes: adcode(6) + town(3) + village(3) + sequence(3).
CREATE TABLE grid_unit (
    code          text COLLATE "C" PRIMARY KEY,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    level         smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent_code   text COLLATE "C",
    parent_level  smallint GENERATED ALWAYS AS (level - 1) STORED,
    name          text NOT NULL CHECK (length(trim(name)) > 0),
    name_en       text,
    geom          geometry(MultiPolygon, 4326) NOT NULL,
    synthetic     boolean NOT NULL DEFAULT false,
    provenance    jsonb NOT NULL DEFAULT '{}'::jsonb,
    UNIQUE (code, level),
    -- a unit's parent is exactly one level up
    FOREIGN KEY (parent_code, parent_level) REFERENCES grid_unit (code, level) ON DELETE CASCADE,
    CHECK ((level = 1) = (parent_code IS NULL)),
    CHECK (code ~ ('^[0-9]{' || (6 + 3 * (level - 1)) || '}$')),
    CHECK (left(code, 6) = region_code),
    CHECK (parent_code IS NULL OR left(code, length(parent_code)) = parent_code),
    CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX grid_unit_geom_idx ON grid_unit USING gist (geom);
CREATE INDEX grid_unit_parent_idx ON grid_unit (parent_code);
CREATE INDEX grid_unit_region_level_idx ON grid_unit (region_code, level);

-- Level-4 cells cut into small pieces (<= 64 vertices) so point lookups stay fast; kept by trigger.
CREATE TABLE grid_cell_piece (
    id           bigserial PRIMARY KEY,
    cell_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code) ON DELETE CASCADE,
    region_code  char(6) NOT NULL,
    geom         geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX grid_cell_piece_geom_idx ON grid_cell_piece USING gist (geom);
CREATE INDEX grid_cell_piece_cell_idx ON grid_cell_piece (cell_code);

CREATE FUNCTION grid_unit_pieces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM grid_cell_piece WHERE cell_code = OLD.code;
    END IF;
    IF NEW.level = 4 THEN
        INSERT INTO grid_cell_piece (cell_code, region_code, geom)
        SELECT NEW.code, NEW.region_code, piece
        FROM ST_Subdivide(NEW.geom, 64) AS piece;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER grid_unit_pieces AFTER INSERT OR UPDATE OF geom, level ON grid_unit
    FOR EACH ROW EXECUTE FUNCTION grid_unit_pieces();

-- The level-4 cell that holds a point: the database decides, for every writer.
-- Points on a shared boundary belong to the cell with the smallest code (deterministic).
CREATE FUNCTION grid_cell_at(p_region char(6), p_geom geometry) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT cell_code FROM grid_cell_piece
    WHERE region_code = p_region AND geom && p_geom AND ST_Intersects(geom, p_geom)
    ORDER BY cell_code LIMIT 1
$$;

-- Per-cell population and household aggregates (from the people registry or the census).
CREATE TABLE cell_population (
    cell_code    text COLLATE "C" PRIMARY KEY REFERENCES grid_unit (code) ON DELETE CASCADE,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    population   integer NOT NULL CHECK (population >= 0),
    households   integer NOT NULL CHECK (households >= 0),
    synthetic    boolean NOT NULL DEFAULT false
);

-- Departments that handle incidents; kind links them to categories.
CREATE TABLE department (
    code         text COLLATE "C" PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    kind         text NOT NULL,
    name         text NOT NULL,
    name_en      text,
    base_geom    geometry(Point, 4326),
    synthetic    boolean NOT NULL DEFAULT false,
    UNIQUE (region_code, kind)
);

-- Incident categories, mapped to GB/T 31000 domains and to a department kind.
CREATE TABLE incident_category (
    code              text COLLATE "C" PRIMARY KEY,
    name              text NOT NULL,
    name_en           text NOT NULL,
    gbt31000_domain   smallint CHECK (gbt31000_domain BETWEEN 1 AND 9),
    department_kind   text NOT NULL,
    sort_order        smallint NOT NULL DEFAULT 0
);

CREATE TABLE facility (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('governance_centre', 'police_station', 'school',
                                               'clinic', 'mediation_station', 'department_base')),
    name         text NOT NULL,
    name_en      text,
    unit_code    text COLLATE "C" REFERENCES grid_unit (code) ON DELETE CASCADE,
    geom         geometry(Point, 4326) NOT NULL,
    synthetic    boolean NOT NULL DEFAULT false
);
CREATE INDEX facility_geom_idx ON facility USING gist (geom);
CREATE INDEX facility_region_kind_idx ON facility (region_code, kind);

CREATE TABLE grid_worker (
    id           bigserial PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    code         text COLLATE "C" NOT NULL UNIQUE,
    name         text NOT NULL,
    phone        text,
    unit_code    text COLLATE "C" NOT NULL REFERENCES grid_unit (code) ON DELETE CASCADE,
    active       boolean NOT NULL DEFAULT true,
    synthetic    boolean NOT NULL DEFAULT false
);
CREATE INDEX grid_worker_unit_idx ON grid_worker (unit_code);

CREATE TABLE worker_position (
    id           bigserial PRIMARY KEY,
    worker_id    bigint NOT NULL REFERENCES grid_worker ON DELETE CASCADE,
    region_code  char(6) NOT NULL,
    at           timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    accuracy_m   real,
    UNIQUE (worker_id, at)
);
CREATE INDEX worker_position_geom_idx ON worker_position USING gist (geom);
CREATE INDEX worker_position_at_idx ON worker_position (region_code, at);

-- Road graph in pgRouting form: costs in seconds, -1 reverse cost for one-way edges.
CREATE TABLE road_edge (
    id            bigserial PRIMARY KEY,
    region_code   char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    source        bigint NOT NULL,
    target        bigint NOT NULL,
    cost          double precision NOT NULL,
    reverse_cost  double precision NOT NULL,
    length_m      double precision NOT NULL CHECK (length_m > 0),
    road_class    text NOT NULL,
    name          text,
    speed_kmh     real NOT NULL CHECK (speed_kmh > 0),
    geom          geometry(LineString, 4326) NOT NULL
);
CREATE INDEX road_edge_geom_idx ON road_edge USING gist (geom);
CREATE INDEX road_edge_source_idx ON road_edge (source);
CREATE INDEX road_edge_target_idx ON road_edge (target);

CREATE TABLE road_vertex (
    id           bigint PRIMARY KEY,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    geom         geometry(Point, 4326) NOT NULL
);
CREATE INDEX road_vertex_geom_idx ON road_vertex USING gist (geom);

-- Incidents. The phone makes the UUID, so a retried report is the same row.
-- handling_level follows the grid levels: 4 grid worker, 3 village, 2 town, 1 banner.
CREATE TABLE incident (
    id              uuid PRIMARY KEY,
    region_code     char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    category_code   text COLLATE "C" NOT NULL REFERENCES incident_category,
    description     text NOT NULL DEFAULT '',
    geom            geometry(Point, 4326) NOT NULL,
    cell_code       text COLLATE "C" NOT NULL REFERENCES grid_unit (code),
    observed_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL CHECK (state IN ('new', 'accepted', 'dispatched', 'in_progress',
                        'on_site', 'resolved', 'verified', 'closed', 'rejected')),
    handling_level  smallint NOT NULL DEFAULT 4 CHECK (handling_level BETWEEN 1 AND 4),
    due_at          timestamptz NOT NULL,
    department_code text COLLATE "C" REFERENCES department,
    reporter_id     bigint REFERENCES grid_worker ON DELETE SET NULL,
    resolved_at     timestamptz,
    closed_at       timestamptz,
    solved_level    smallint CHECK (solved_level BETWEEN 1 AND 4),
    source          text NOT NULL DEFAULT 'grid_worker',
    synthetic       boolean NOT NULL DEFAULT false,
    CHECK (observed_at <= received_at + interval '10 minutes'),
    CHECK ((resolved_at IS NULL) = (solved_level IS NULL))
);
CREATE INDEX incident_geom_idx ON incident USING gist (geom);
CREATE INDEX incident_cell_idx ON incident (cell_code, received_at);
CREATE INDEX incident_received_idx ON incident (region_code, received_at);
CREATE INDEX incident_open_due_idx ON incident (region_code, due_at)
    WHERE state NOT IN ('closed', 'rejected');

-- The cell is assigned by the database from the point, whatever the writer sent.
CREATE FUNCTION incident_assign_cell() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.cell_code := grid_cell_at(NEW.region_code, NEW.geom);
    IF NEW.cell_code IS NULL THEN
        RAISE EXCEPTION 'incident % at % is outside the grid of region %',
            NEW.id, ST_AsText(NEW.geom), NEW.region_code
            USING ERRCODE = 'check_violation', HINT = 'OUTSIDE_GRID';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER incident_assign_cell BEFORE INSERT OR UPDATE OF geom, region_code ON incident
    FOR EACH ROW EXECUTE FUNCTION incident_assign_cell();

-- The append-only timeline of an incident: who, when, what, where.
CREATE TABLE incident_event (
    id           bigserial PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incident ON DELETE CASCADE,
    region_code  char(6) NOT NULL,
    at           timestamptz NOT NULL,
    action       text NOT NULL,
    from_state   text,
    to_state     text,
    level        smallint CHECK (level BETWEEN 1 AND 4),
    actor        text,
    note         text,
    geom         geometry(Point, 4326)
);
CREATE INDEX incident_event_incident_idx ON incident_event (incident_id, at);

-- Direct updates and deletes are refused; deleting the incident itself cascades (trigger depth > 0).
CREATE FUNCTION incident_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'incident_event is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER incident_event_append_only BEFORE UPDATE OR DELETE ON incident_event
    FOR EACH ROW EXECUTE FUNCTION incident_event_append_only();

-- Area in m² of a lon/lat geometry whose edges are straight in lon/lat (as stored): the planar
-- area in degrees² times the ellipsoid's m² per degree² at the centroid's latitude. Exact for the
-- thin slivers tiling checks look for, and within ~0.5 % for a whole county. (::geography treats
-- edges as great-circle arcs that bulge tens of metres off a long edge; densifying and projecting
-- bends the two sides of a sliver differently; both turn a 1e-6 m² sliver into tens of m².)
CREATE FUNCTION area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ST_Area(g) * (pi() / 180) ^ 2 * 6378137.0 ^ 2 * (1 - 0.00669437999014)
           * cos(radians(y)) / (1 - 0.00669437999014 * sin(radians(y)) ^ 2) ^ 2
    FROM (SELECT coalesce(ST_Y(ST_Centroid(g)), 0) AS y) c
$$;
