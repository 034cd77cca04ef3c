-- After a bulk load whose roll-up trigger was deferred: the incidents this transaction inserted,
-- summed per cell, local day and category in one grouped statement (the same sums as
-- incident_rollup_sync's bulk branch), kept for the two merges that follow (bulk_rollup_merge.sql,
-- incident_rollup_unit_merge) and dropped after them.
CREATE TEMP TABLE bulk_rollup_fresh ON COMMIT DROP AS
SELECT o.cell_code, local_day(o.received_at, g.timezone) AS day, o.category_code, count(*)::integer AS n,
       (count(*) FILTER (WHERE o.solved_level = 4))::integer AS solved_4,
       (count(*) FILTER (WHERE o.solved_level = 3))::integer AS solved_3,
       (count(*) FILTER (WHERE o.solved_level = 2))::integer AS solved_2,
       (count(*) FILTER (WHERE o.solved_level = 1))::integer AS solved_1,
       (count(*) FILTER (WHERE incident_is_late(o.resolved_at, o.due_at)))::integer AS late,
       coalesce(sum(extract(epoch FROM o.resolved_at - o.received_at)), 0)::double precision AS handling_s
FROM incident o JOIN region g ON g.region_code = o.region_code
WHERE o.xmin::text = mod(pg_current_xact_id()::text::bigint, 4294967296)::text
  AND o.merged_into IS NULL  -- a merged report counts nowhere (0022), as in incident_rollup_sync
GROUP BY 1, 2, 3
