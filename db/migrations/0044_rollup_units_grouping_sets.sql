-- 0044 the unit roll-ups (0035) summed in one pass over the source rows.
--
-- 0035 crossed every source row with the 15 (grain, level, all-categories) variants and grouped
-- the product: a bulk load's 670k folded rows became 10M rows to sort, 20 s of a 1M-incident load.
-- The same sums by GROUPING SETS hash each source row into the 15 groupings at once (3 s). The
-- rows written are the same: per unit of level 1–3 and day, per unit of level 1–4 and month, each
-- by category and for all categories ('*'), and level-4 days for all categories only.
-- Unit codes are prefixes of the cell code (6 + 3 × (level − 1) characters); a grouping's level is
-- its longest prefix kept, its grain 'd' when it keeps the day. The hash tables of a bulk load's
-- sums take ~120 MB: the trigger runs with the work_mem to hold them (the report path's few
-- deltas use a fraction of it).

CREATE OR REPLACE FUNCTION incident_rollup_unit_sql(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
    SELECT format($q$
        INSERT INTO incident_rollup_unit AS r
        SELECT left(g.unit_code, 6), g.grain, g.level, g.unit_code, g.day, g.category_code,
               g.n, g.solved_4, g.solved_3, g.solved_2, g.solved_1, g.late, g.handling_s
        FROM (
            SELECT coalesce(u4, u3, u2, u1) AS unit_code,
                   CASE WHEN GROUPING(dd) = 0 THEN 'd' ELSE 'm' END AS grain,
                   CASE WHEN GROUPING(u4) = 0 THEN 4 WHEN GROUPING(u3) = 0 THEN 3
                        WHEN GROUPING(u2) = 0 THEN 2 ELSE 1 END AS level,
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
        ON CONFLICT (grain, level, day, unit_code, category_code) DO UPDATE SET
            n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
            solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
            solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
            handling_s = r.handling_s + excluded.handling_s
    $q$, p_source)
$f$;

ALTER FUNCTION incident_rollup_unit_sync() SET work_mem = '256MB';
