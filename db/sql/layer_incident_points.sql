-- The incidents layer's "points" map variant (high zoom): the caller's incidents in the viewport,
-- open ones always and the others received in [since, until), open first then the newest, capped
-- at %(limit)s so a response never holds more than a few thousand. The row rule is the one every
-- incident query applies (domain.policy.row_params): under the scope and, for department staff,
-- their department's, or reported by the caller.
-- Two top-N reads, each able to stop early: the open ones in the box (incident_open_geom_idx,
-- 0042: a few tens of thousands at 10M incidents), and the newest of the rest (in a wide box the
-- received-time index read backwards, in a small one the GiST index; the planner picks by the
-- box's estimated rows). One query over both sorted all matching rows: 2.4 s at 10M for the
-- county seat (bench/README.md).
SELECT fid, geom, id, category, class FROM (
    (SELECT i.id::text AS fid, i.geom, i.id::text AS id, i.category_code AS category,
            CASE WHEN incident_is_overdue(i.state, i.due_at, %(now)s) THEN 'overdue'
                 WHEN i.state = 'new' THEN 'new'
                 ELSE 'in_hand' END AS class, 0 AS rank, i.received_at
     FROM incident i
     WHERE i.region_code = %(region_code)s
       AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
            OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
       AND i.geom && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)
       AND incident_is_open(i.state)
       AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
       AND (%(handling_level)s::smallint IS NULL OR i.handling_level = %(handling_level)s)
     ORDER BY i.received_at DESC
     LIMIT %(limit)s)
    UNION ALL
    (SELECT i.id::text, i.geom, i.id::text, i.category_code,
            CASE WHEN i.state = 'rejected' THEN 'rejected' ELSE 'solved' END, 1, i.received_at
     FROM incident i
     WHERE i.region_code = %(region_code)s
       AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
            OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
       AND i.geom && ST_MakeEnvelope(%(bbox_w)s, %(bbox_s)s, %(bbox_e)s, %(bbox_n)s, 4326)
       AND NOT incident_is_open(i.state)
       AND (%(since)s::timestamptz IS NULL OR i.received_at >= %(since)s)
       AND (%(until)s::timestamptz IS NULL OR i.received_at < %(until)s)
       AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
       AND (%(handling_level)s::smallint IS NULL OR i.handling_level = %(handling_level)s)
     ORDER BY i.received_at DESC
     LIMIT %(limit)s)
) p
ORDER BY rank, received_at DESC
LIMIT %(limit)s
