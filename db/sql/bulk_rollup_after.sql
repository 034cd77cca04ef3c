-- After a bulk load whose roll-up trigger was deferred: the incidents this transaction inserted,
-- counted into the folded roll-up in one grouped statement (the same sums as incident_rollup_sync's
-- bulk branch; the unit roll-ups follow through 0035's triggers on the folded rows).
INSERT INTO incident_rollup_folded AS r
    (cell_code, day, category_code, n, solved_4, solved_3, solved_2, solved_1, late, handling_s)
SELECT o.cell_code, local_day(o.received_at, g.timezone), o.category_code, count(*),
       count(*) FILTER (WHERE o.solved_level = 4), count(*) FILTER (WHERE o.solved_level = 3),
       count(*) FILTER (WHERE o.solved_level = 2), count(*) FILTER (WHERE o.solved_level = 1),
       count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)),
       coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)
FROM incident o JOIN region g ON g.region_code = o.region_code
WHERE o.xmin::text = mod(pg_current_xact_id()::text::bigint, 4294967296)::text
  AND o.merged_into IS NULL  -- a merged report counts nowhere (0022), as in incident_rollup_sync
GROUP BY 1, 2, 3
ON CONFLICT (cell_code, day, category_code) DO UPDATE SET
    n = r.n + excluded.n, solved_4 = r.solved_4 + excluded.solved_4,
    solved_3 = r.solved_3 + excluded.solved_3, solved_2 = r.solved_2 + excluded.solved_2,
    solved_1 = r.solved_1 + excluded.solved_1, late = r.late + excluded.late,
    handling_s = r.handling_s + excluded.handling_s
