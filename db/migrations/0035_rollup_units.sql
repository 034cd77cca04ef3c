-- 0035 roll-ups per unit at every level, by day and by month, so a dashboard panel sums a few
-- thousand rows at 10M incidents instead of the cell × day × category rows of a whole year.
--
-- incident_rollup_unit holds, per unit of level 1–3 (banner, town, village) and day, and per unit
-- of level 1–4 and month, the same columns as incident_rollup_folded. It is kept by statement
-- triggers on incident_rollup_folded, so every path that changes the folded rows feeds it in the
-- same transaction: the fold of the report path's deltas (0011) and the bulk loader's direct
-- inserts. Level-4 days are incident_rollup_folded itself. rollup_span() is what readers call: the
-- full months of a range from month rows, the days at its ends from day rows, plus the deltas not
-- folded yet, so sums are exact at every moment, like the incident_rollup view.
-- Unit codes are prefixes of cell codes: 6 + 3 × (level − 1) characters. Besides a row per
-- category, each unit, grain and day has a row for all categories together (category_code '*'),
-- also for level-4 days: panels that do not split by category read ~10× fewer rows.

CREATE TABLE incident_rollup_unit (
    region_code    char(6) NOT NULL,
    grain          char(1) NOT NULL CHECK (grain IN ('d', 'm')),  -- a day, or a month (day = its first day)
    level          smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    unit_code      text COLLATE "C" NOT NULL,
    day            date NOT NULL,
    category_code  text COLLATE "C" NOT NULL,
    n              bigint NOT NULL,
    solved_4       bigint NOT NULL,
    solved_3       bigint NOT NULL,
    solved_2       bigint NOT NULL,
    solved_1       bigint NOT NULL,
    late           bigint NOT NULL,
    handling_s     double precision NOT NULL,
    -- day before unit: a range reads only its own days' rows (a whole county's cells for 30 days
    -- is 401 × 30 all-category rows), the unit prefix is checked within the index
    PRIMARY KEY (grain, level, day, unit_code, category_code),
    CHECK (grain = 'm' OR level < 4 OR category_code = '*')
);

-- The statement adding the signed rows of a source (SQL over the transition tables) at every level
-- and grain. The trigger EXECUTEs it itself: transition tables are visible only in its own body.
CREATE FUNCTION incident_rollup_unit_sql(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
    SELECT format($q$
        INSERT INTO incident_rollup_unit AS r
        SELECT left(d.cell_code, 6), x.grain, x.level, left(d.cell_code, 3 + 3 * x.level),
               CASE WHEN x.grain = 'd' THEN d.day ELSE date_trunc('month', d.day)::date END,
               CASE WHEN x.total THEN '*' ELSE d.category_code END, sum(d.n), sum(d.solved_4), sum(d.solved_3), sum(d.solved_2), sum(d.solved_1),
               sum(d.late), sum(d.handling_s)
        FROM (%s) d
        CROSS JOIN (VALUES ('d', 1, false), ('d', 2, false), ('d', 3, false), ('m', 1, false), ('m', 2, false),
                           ('m', 3, false), ('m', 4, false), ('d', 1, true), ('d', 2, true), ('d', 3, true),
                           ('d', 4, true), ('m', 1, true), ('m', 2, true), ('m', 3, true), ('m', 4, true))
            x(grain, level, total)
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (grain, level, day, unit_code, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s
    $q$, p_source)
$f$;

CREATE FUNCTION incident_rollup_unit_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    cols constant text := 'cell_code, day, category_code, %sn AS n, %ssolved_4 AS solved_4, %ssolved_3 AS solved_3, '
                          '%ssolved_2 AS solved_2, %ssolved_1 AS solved_1, %slate AS late, %shandling_s AS handling_s';
    plus text := format(cols, '', '', '', '', '', '', '');
    minus text := format(cols, '-', '-', '-', '-', '-', '-', '-');
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE incident_rollup_unit_sql('SELECT ' || plus || ' FROM new_rows');
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE incident_rollup_unit_sql('SELECT ' || minus || ' FROM old_rows');
    ELSE
        EXECUTE incident_rollup_unit_sql('SELECT ' || plus || ' FROM new_rows UNION ALL SELECT ' || minus
                                         || ' FROM old_rows');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER incident_rollup_unit_insert AFTER INSERT ON incident_rollup_folded
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_unit_sync();
CREATE TRIGGER incident_rollup_unit_update AFTER UPDATE ON incident_rollup_folded
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_unit_sync();
CREATE TRIGGER incident_rollup_unit_delete AFTER DELETE ON incident_rollup_folded
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_rollup_unit_sync();

-- Databases migrated after loading: the unit rows of what is folded already.
DO $$ BEGIN
    EXECUTE incident_rollup_unit_sql(
        'SELECT cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s '
        'FROM incident_rollup_folded');
END $$;

-- The roll-up of the units of p_level under p_scope over the local days [p_since, p_until) (NULL:
-- unbounded), one row per unit, day (a month's first day for its month rows) and category; sum
-- them. p_days: day rows only (a trend by day or week). A month wholly inside the range comes
-- from its month row; the days at the range's ends from day rows; pending deltas are added.
-- Without p_categories and p_by_category the all-categories rows are read (category '*'; pending
-- deltas keep their own category): for sums over categories only.
CREATE FUNCTION rollup_span(p_scope text, p_level integer, p_since date, p_until date,
                            p_categories text[] DEFAULT NULL, p_days boolean DEFAULT false,
                            p_by_category boolean DEFAULT false)
RETURNS TABLE (unit_code text, day date, category_code text, n bigint, solved_4 bigint, solved_3 bigint,
               solved_2 bigint, solved_1 bigint, late bigint, handling_s double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- whole months: month rows
    SELECT r.unit_code, r.day, r.category_code, r.n, r.solved_4, r.solved_3, r.solved_2, r.solved_1, r.late,
           r.handling_s
    FROM incident_rollup_unit r
    WHERE r.grain = 'm' AND r.level = p_level AND r.unit_code LIKE p_scope || '%' AND NOT p_days
      AND r.day >= (date_trunc('month', coalesce(p_since, '0001-01-02'::date) - 1) + interval '1 month')::date AND r.day < date_trunc('month', coalesce(p_until, '9999-12-01'::date))::date
      AND CASE WHEN p_categories IS NULL AND NOT p_by_category THEN r.category_code = '*'
               ELSE r.category_code <> '*' AND (p_categories IS NULL OR r.category_code = ANY(p_categories)) END
    UNION ALL  -- days at one end of the range (with p_days: all of it); each a plain range of the index
    SELECT r.unit_code, r.day, r.category_code, r.n, r.solved_4, r.solved_3, r.solved_2, r.solved_1, r.late,
           r.handling_s
    FROM incident_rollup_unit r
    WHERE r.grain = 'd' AND r.level = p_level AND r.unit_code LIKE p_scope || '%' AND true
      AND (p_level < 4 OR (p_categories IS NULL AND NOT p_by_category))
      AND r.day >= coalesce(p_since, '0001-01-01'::date) AND r.day < CASE WHEN p_days THEN coalesce(p_until, '9999-12-31'::date) ELSE least(coalesce(p_until, '9999-12-31'::date), (date_trunc('month', coalesce(p_since, '0001-01-02'::date) - 1) + interval '1 month')::date) END
      AND CASE WHEN p_categories IS NULL AND NOT p_by_category THEN r.category_code = '*'
               ELSE r.category_code <> '*' AND (p_categories IS NULL OR r.category_code = ANY(p_categories)) END
    UNION ALL  -- days at one end of the range (with p_days: all of it); each a plain range of the index
    SELECT r.unit_code, r.day, r.category_code, r.n, r.solved_4, r.solved_3, r.solved_2, r.solved_1, r.late,
           r.handling_s
    FROM incident_rollup_unit r
    WHERE r.grain = 'd' AND r.level = p_level AND r.unit_code LIKE p_scope || '%' AND NOT p_days
      AND (p_level < 4 OR (p_categories IS NULL AND NOT p_by_category))
      AND r.day >= greatest(coalesce(p_since, '0001-01-01'::date), date_trunc('month', coalesce(p_until, '9999-12-01'::date))::date, (date_trunc('month', coalesce(p_since, '0001-01-02'::date) - 1) + interval '1 month')::date) AND r.day < coalesce(p_until, '9999-12-31'::date)
      AND CASE WHEN p_categories IS NULL AND NOT p_by_category THEN r.category_code = '*'
               ELSE r.category_code <> '*' AND (p_categories IS NULL OR r.category_code = ANY(p_categories)) END
    UNION ALL  -- level-4 days by category: the folded cell rows
    SELECT f.cell_code, f.day, f.category_code, f.n, f.solved_4, f.solved_3, f.solved_2, f.solved_1, f.late,
           f.handling_s
    FROM incident_rollup_folded f
    WHERE p_level = 4 AND (p_categories IS NOT NULL OR p_by_category) AND f.cell_code LIKE p_scope || '%' AND true
      AND f.day >= coalesce(p_since, '0001-01-01'::date) AND f.day < CASE WHEN p_days THEN coalesce(p_until, '9999-12-31'::date) ELSE least(coalesce(p_until, '9999-12-31'::date), (date_trunc('month', coalesce(p_since, '0001-01-02'::date) - 1) + interval '1 month')::date) END
      AND (p_categories IS NULL OR f.category_code = ANY(p_categories))
    UNION ALL  -- level-4 days by category: the folded cell rows
    SELECT f.cell_code, f.day, f.category_code, f.n, f.solved_4, f.solved_3, f.solved_2, f.solved_1, f.late,
           f.handling_s
    FROM incident_rollup_folded f
    WHERE p_level = 4 AND (p_categories IS NOT NULL OR p_by_category) AND f.cell_code LIKE p_scope || '%' AND NOT p_days
      AND f.day >= greatest(coalesce(p_since, '0001-01-01'::date), date_trunc('month', coalesce(p_until, '9999-12-01'::date))::date, (date_trunc('month', coalesce(p_since, '0001-01-02'::date) - 1) + interval '1 month')::date) AND f.day < coalesce(p_until, '9999-12-31'::date)
      AND (p_categories IS NULL OR f.category_code = ANY(p_categories))
    UNION ALL  -- changes not folded yet
    SELECT left(d.cell_code, 3 + 3 * p_level), d.day, d.category_code, d.n, d.solved_4, d.solved_3, d.solved_2,
           d.solved_1, d.late, d.handling_s
    FROM incident_rollup_delta d
    WHERE d.cell_code LIKE p_scope || '%'
      AND (p_since IS NULL OR d.day >= p_since) AND (p_until IS NULL OR d.day < p_until)
      AND (p_categories IS NULL OR d.category_code = ANY(p_categories))
$$;

-- The app reads unit roll-ups; only the triggers write them (as the owner).
DO $$ BEGIN
    REVOKE ALL ON incident_rollup_unit FROM onemap_app;
    GRANT SELECT ON incident_rollup_unit TO onemap_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'onemap_app role not present: the app runs as the connecting user';
END $$;
