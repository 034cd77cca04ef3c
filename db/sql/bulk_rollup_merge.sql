-- The bulk load's fresh sums (bulk_rollup_fresh.sql) merged into the folded roll-up while its key
-- is deferred (no unique index, so no ON CONFLICT): the rows of the keys the load adds to are
-- deleted and inserted again, summed with the fresh ones. The rows are those an upsert gives.
WITH old AS (
    DELETE FROM incident_rollup_folded r USING bulk_rollup_fresh f
    WHERE r.cell_code = f.cell_code AND r.day = f.day AND r.category_code = f.category_code
    RETURNING r.cell_code, r.day, r.category_code, r.n, r.solved_4, r.solved_3, r.solved_2, r.solved_1,
              r.late, r.handling_s)
INSERT INTO incident_rollup_folded
    (cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s)
SELECT cell_code, day, category_code, sum(n), sum(solved_4), sum(solved_3), sum(solved_2), sum(solved_1),
       sum(late), sum(handling_s)
FROM (SELECT * FROM bulk_rollup_fresh UNION ALL SELECT * FROM old) s
GROUP BY cell_code, day, category_code
