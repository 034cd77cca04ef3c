-- 0028 the registries' privacy by law (PIPL art. 28/51; README "Who sees what").
--
-- * Clear ID numbers and phones live only in reg_person_secret, which the app role cannot read or
--   write. reg_person keeps their masked forms and a keyed hash of the ID number (HMAC-SHA256 with
--   a random key per region in reg_key, which the app cannot read either), so a number can be looked up but
--   not read back or brute-forced from the table.
-- * reg_person_secret_set (SECURITY DEFINER) stores them and the masks; reg_person_reveal
--   (SECURITY DEFINER) returns them only to a live account of a role that may, within its
--   jurisdiction, with a stated reason, and writes the audit row itself in the same transaction:
--   there is no unaudited path to a clear value from the app.
-- * Follow-ups, incident links and household visits are appended, never rewritten.
-- * reg_retention_purge anonymises people who moved away longer ago than the retention period
--   (run by the owner: `onemap registry purge`).

CREATE TABLE reg_person_secret (
    person_id    bigint PRIMARY KEY REFERENCES reg_person ON DELETE CASCADE,
    region_code  char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    id_number    text CHECK (id_number ~ '^[1-9][0-9]{16}[0-9X]$'),
    phone        text CHECK (length(phone) <= 20)
);

-- One random key per region (a county's hashes mean nothing in another's), made with its region.
CREATE TABLE reg_key (
    region_code  char(6) PRIMARY KEY REFERENCES region ON DELETE CASCADE,
    key          bytea NOT NULL
);
INSERT INTO reg_key (region_code, key) SELECT region_code, gen_random_bytes(32) FROM region;
CREATE FUNCTION reg_key_for_region() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO reg_key (region_code, key) VALUES (NEW.region_code, gen_random_bytes(32))
    ON CONFLICT (region_code) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER region_reg_key AFTER INSERT ON region FOR EACH ROW EXECUTE FUNCTION reg_key_for_region();

CREATE FUNCTION reg_id_hash(p_region char(6), p_id text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE WHEN p_id IS NULL OR p_id = '' THEN NULL
                ELSE encode(hmac(convert_to(upper(p_id), 'UTF8'),
                                 (SELECT key FROM reg_key WHERE region_code = p_region), 'sha256'), 'hex') END
$$;

CREATE FUNCTION reg_mask_id(p_id text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_id IS NULL OR p_id = '' THEN NULL
                ELSE left(p_id, 3) || repeat('*', length(p_id) - 7) || right(p_id, 4) END
$$;
CREATE FUNCTION reg_mask_phone(p_phone text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_phone IS NULL OR p_phone = '' THEN NULL
                ELSE left(p_phone, 3) || '****' || right(p_phone, 4) END
$$;

-- Store a person's ID number and phone: NULL leaves one unchanged, '' removes it.
CREATE FUNCTION reg_person_secret_set(p_person bigint, p_id text, p_phone text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO reg_person_secret (person_id, region_code, id_number, phone)
    SELECT id, region_code, nullif(upper(p_id), ''), nullif(p_phone, '') FROM reg_person WHERE id = p_person
    ON CONFLICT (person_id) DO UPDATE
       SET id_number = CASE WHEN p_id IS NULL THEN reg_person_secret.id_number ELSE nullif(upper(p_id), '') END,
           phone = CASE WHEN p_phone IS NULL THEN reg_person_secret.phone ELSE nullif(p_phone, '') END;
    UPDATE reg_person p
       SET id_masked = reg_mask_id(s.id_number), id_hash = reg_id_hash(p.region_code, s.id_number),
           phone_masked = reg_mask_phone(s.phone)
      FROM reg_person_secret s WHERE s.person_id = p.id AND p.id = p_person;
END $$;

-- The reveal path: a person's clear ID number and phone, audited here. The roles are domain/policy.py's
-- ID_NUMBER class (tests/test_registry.py keeps the two equal).
CREATE FUNCTION reg_person_reveal(p_person bigint, p_user bigint, p_reason text)
RETURNS TABLE (id_number text, phone text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    u app_user%ROWTYPE;
    p reg_person%ROWTYPE;
BEGIN
    IF p_reason IS NULL OR length(trim(p_reason)) < 4 OR length(p_reason) > 200 THEN
        RAISE EXCEPTION 'a reveal needs a stated reason' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO u FROM app_user WHERE id = p_user;
    IF NOT FOUND OR u.disabled OR u.role NOT IN ('admin', 'dispatcher', 'worker') THEN
        RAISE EXCEPTION 'this account may not reveal a person''s record' USING ERRCODE = '42501';
    END IF;
    SELECT * INTO p FROM reg_person WHERE id = p_person;
    IF NOT FOUND OR p.region_code <> u.region_code OR left(p.cell_code, length(u.unit_code)) <> u.unit_code THEN
        RAISE EXCEPTION 'person % is not in the jurisdiction', p_person USING ERRCODE = '42501';
    END IF;
    INSERT INTO audit_log (region_code, user_id, username, action, object_type, object_id, detail, count)
    VALUES (p.region_code, u.id, u.username, 'reveal', 'person', p.id::text,
            jsonb_build_object('reason', trim(p_reason), 'fields', jsonb_build_array('id_number', 'phone')), 1);
    RETURN QUERY SELECT s.id_number, s.phone FROM reg_person_secret s WHERE s.person_id = p_person
                 UNION ALL SELECT NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM reg_person_secret s2
                                                               WHERE s2.person_id = p_person);
END $$;

-- Retention: people who moved away more than p_days before p_now lose their name, numbers, exact
-- birth date, addresses and special-group records; their row stays as an anonymous count.
CREATE FUNCTION reg_retention_purge(p_region char(6), p_days integer, p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH gone AS (
        SELECT id FROM reg_person
        WHERE region_code = p_region AND NOT anonymised AND moved_out_at < p_now - make_interval(days => p_days)
    ), s AS (
        DELETE FROM reg_person_secret WHERE person_id IN (SELECT id FROM gone)
    ), g AS (
        DELETE FROM reg_special_group WHERE person_id IN (SELECT id FROM gone)
    )
    UPDATE reg_person SET name = '已迁出', birth_date = date_trunc('year', birth_date)::date,
                          registered_address = '', relation = '', id_masked = NULL, id_hash = NULL,
                          phone_masked = NULL, household_id = NULL, anonymised = true, updated_at = p_now
    WHERE id IN (SELECT id FROM gone);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        INSERT INTO audit_log (region_code, username, action, object_type, detail, count)
        VALUES (p_region, 'system', 'retention_purge', 'person', jsonb_build_object('days', p_days), n);
    END IF;
    RETURN n;
END $$;

REVOKE EXECUTE ON FUNCTION reg_id_hash(char, text), reg_person_secret_set(bigint, text, text),
    reg_person_reveal(bigint, bigint, text), reg_retention_purge(char, integer, timestamptz) FROM PUBLIC;

DO $$ BEGIN
    REVOKE ALL ON reg_person_secret, reg_key, reg_house, reg_household, reg_person, reg_special_group,
        reg_followup, reg_org, reg_org_staff, reg_place, reg_school, reg_dispute, reg_line, reg_extension_kind,
        reg_extension_record, reg_incident_link, reg_household_visit FROM onemap_app;
    GRANT SELECT ON reg_cell_counts TO onemap_app;
    GRANT SELECT, INSERT, UPDATE ON reg_house, reg_household, reg_special_group, reg_org, reg_org_staff,
        reg_place, reg_school, reg_dispute, reg_line, reg_extension_record TO onemap_app;
    -- masks and hash only through reg_person_secret_set; nothing deleted (moving out is an update)
    GRANT SELECT ON reg_person TO onemap_app;
    GRANT INSERT (uid, region_code, household_id, cell_code, name, sex, birth_date, ethnicity, residence,
                  registered_address, relation, moved_out_at, updated_at) ON reg_person TO onemap_app;
    GRANT UPDATE (household_id, cell_code, name, sex, birth_date, ethnicity, residence, registered_address,
                  relation, moved_out_at, updated_at) ON reg_person TO onemap_app;
    GRANT SELECT ON reg_extension_kind TO onemap_app;   -- declared by the owner (`onemap registry kinds`)
    GRANT SELECT, INSERT ON reg_followup, reg_incident_link, reg_household_visit TO onemap_app;
    GRANT EXECUTE ON FUNCTION reg_id_hash(char, text), reg_person_secret_set(bigint, text, text),
        reg_person_reveal(bigint, bigint, text) TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
