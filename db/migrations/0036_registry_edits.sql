-- 0036 the other registries are written like houses and people (issue #15): organisations and
-- their staff, public-order places, schools and protected lines get the client's UUID (the
-- idempotency key; a row made without one, like those before this, gets a random one) and an
-- update time; a staff member's phone is stored masked only (138****5678: a contact list of an
-- organisation, not a reveal path).
-- Houses may have a footprint polygon (EPSG:4326 like the point): valid, not empty, small (under
-- 1 km²) and touching the house's cell (the trigger; the app checks the same first and says why).

ALTER TABLE reg_org ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE reg_org_staff ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN phone_masked text CHECK (phone_masked ~ '^[0-9]{3}\*{4}[0-9]{4}$'),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT reg_org_staff_name_len CHECK (length(name) BETWEEN 1 AND 60) NOT VALID;
CREATE INDEX reg_org_staff_org_idx ON reg_org_staff (org_id);
CREATE INDEX reg_org_cell_idx ON reg_org (cell_code);
ALTER TABLE reg_place ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX reg_place_cell_idx ON reg_place (cell_code);
ALTER TABLE reg_school ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX reg_school_cell_idx ON reg_school (cell_code);
ALTER TABLE reg_line ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX reg_line_unit_idx ON reg_line (unit_code);

ALTER TABLE reg_house ADD COLUMN footprint geometry(Polygon, 4326)
    CHECK (footprint IS NULL OR (ST_IsValid(footprint) AND NOT ST_IsEmpty(footprint)
                                 AND ST_Area(footprint::geography) BETWEEN 1 AND 1000000));
CREATE INDEX reg_house_footprint_idx ON reg_house USING gist (footprint) WHERE footprint IS NOT NULL;

CREATE FUNCTION reg_house_footprint_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.footprint IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM grid_unit g WHERE g.code = NEW.cell_code AND ST_Intersects(g.geom, NEW.footprint)) THEN
        RAISE EXCEPTION 'the footprint of house % lies outside its cell %', NEW.uid, NEW.cell_code
            USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reg_house_footprint BEFORE INSERT OR UPDATE OF footprint, cell_code ON reg_house
    FOR EACH ROW EXECUTE FUNCTION reg_house_footprint_check();
