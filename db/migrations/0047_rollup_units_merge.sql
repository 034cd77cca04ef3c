-- 0047 the unit roll-ups' sums as a query of their own, and a merge that needs no unique index.
--
-- A deferred bulk load (demo.incidents.load_incidents) now defers the roll-up tables' keys too:
-- an upsert (ON CONFLICT) of 1.3M roll-up rows through their primary keys took 11 s of a
-- 1M-incident load; plain inserts and one index build per key take 3 s. Without the keys there is
-- no ON CONFLICT, so the load merges instead: the existing rows of the keys it adds to are deleted
-- and come back summed with the new ones, which gives the rows an upsert gives.
-- incident_rollup_unit_select is 0044's grouping (one place); the upsert the trigger runs and the
-- merge the load runs both wrap it.

CREATE OR REPLACE FUNCTION incident_rollup_unit_select(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
    SELECT format($q$
        SELECT left(g.unit_code, 6)::char(6) AS region_code, g.grain, g.level, g.unit_code, g.day,
               g.category_code, g.n, g.solved_4, g.solved_3, g.solved_2, g.solved_1, g.late, g.handling_s
        FROM (
            SELECT coalesce(u4, u3, u2, u1) AS unit_code,
                   CASE WHEN GROUPING(dd) = 0 THEN 'd' ELSE 'm' END::char(1) AS grain,
                   (CASE WHEN GROUPING(u4) = 0 THEN 4 WHEN GROUPING(u3) = 0 THEN 3
                         WHEN GROUPING(u2) = 0 THEN 2 ELSE 1 END)::smallint AS level,
                   coalesce(dd, mm) AS day, coalesce(cat, '*') AS category_code,
                   sum(n) AS n, sum(solved_4) AS solved_4, sum(solved_3) AS solved_3,
                   sum(solved_2) AS solved_2, sum(solved_1) AS solved_1, sum(late) AS late,
                   sum(handling_s) AS handling_s
            FROM (SELECT left(d.cell_code, 6) AS u1, left(d.cell_code, 9) AS u2, left(d.cell_code, 12) AS u3,
                         left(d.cell_code, 15) AS u4, d.day AS dd,
                         date_trunc('month', d.day::timestamp)::date AS mm, d.category_code AS cat,
                         d.n, d.solved_4, d.solved_3, d.solved_2, d.solved_1, d.late, d.handling_s
                  FROM (%s) d) s
            GROUP BY GROUPING SETS ((u1, dd, cat), (u2, dd, cat), (u3, dd, cat),
                                    (u1, mm, cat), (u2, mm, cat), (u3, mm, cat), (u4, mm, cat),
                                    (u1, dd), (u2, dd), (u3, dd), (u4, dd),
                                    (u1, mm), (u2, mm), (u3, mm), (u4, mm))) g
    $q$, p_source)
$f$;

-- The statement adding the signed rows of a source at every level and grain (the trigger's).
CREATE OR REPLACE FUNCTION incident_rollup_unit_sql(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
    SELECT format($q$
        INSERT INTO incident_rollup_unit AS r %s
        ON CONFLICT (grain, level, day, unit_code, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s
    $q$, incident_rollup_unit_select(p_source))
$f$;

-- The same sums merged with no unique index: the rows of the keys the source adds to are
-- deleted and inserted again, summed with the new ones.
CREATE OR REPLACE FUNCTION incident_rollup_unit_merge(p_source text) RETURNS void
LANGUAGE plpgsql SET work_mem = '256MB' AS $f$
BEGIN
    EXECUTE format($q$
        WITH delta AS MATERIALIZED (%s),
        old AS (
            DELETE FROM incident_rollup_unit r USING delta d
            WHERE r.grain = d.grain AND r.level = d.level AND r.day = d.day
              AND r.unit_code = d.unit_code AND r.category_code = d.category_code
            RETURNING r.*)
        INSERT INTO incident_rollup_unit
        SELECT region_code, grain, level, unit_code, day, category_code, sum(n), sum(solved_4),
               sum(solved_3), sum(solved_2), sum(solved_1), sum(late), sum(handling_s)
        FROM (SELECT * FROM delta UNION ALL SELECT * FROM old) s
        GROUP BY region_code, grain, level, unit_code, day, category_code
    $q$, incident_rollup_unit_select(p_source));
END $f$;

-- The loader's (the owner's) alone: the app never merges roll-ups, and a function that runs the
-- SQL it is given is no one else's to call.
REVOKE EXECUTE ON FUNCTION incident_rollup_unit_merge(text) FROM PUBLIC;
