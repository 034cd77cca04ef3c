-- Headline KPIs for a unit: the loop right now (open incidents, today) and over the time range
-- (roll-up): share solved in the grid, on-time closure, average handling time by level. The range
-- is read at the scope's own level (rollup_span, 0035): months and end days, not cells.
WITH live AS (
    SELECT count(*) AS open,
           count(*) FILTER (WHERE incident_is_overdue(state, due_at, %(now)s)) AS overdue
    FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
      AND incident_is_open(state)
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
), today AS (
    SELECT count(*) FILTER (WHERE received_at >= %(today)s) AS new_today,
           count(*) FILTER (WHERE resolved_at >= %(today)s) AS solved_today
    FROM incident
    WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
      AND (received_at >= %(today)s OR resolved_at >= %(today)s)
      AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
), period AS (
    SELECT coalesce(sum(n), 0)::bigint AS reported, coalesce(sum(solved_4), 0)::bigint AS s4,
           coalesce(sum(solved_3), 0)::bigint AS s3, coalesce(sum(solved_2), 0)::bigint AS s2,
           coalesce(sum(solved_1), 0)::bigint AS s1, coalesce(sum(late), 0)::bigint AS late,
           coalesce(sum(handling_s), 0) AS handling_s
    FROM rollup_span(%(scope)s, (length(%(scope)s) - 3) / 3, %(since)s, %(until)s, %(categories)s::text[])
)
SELECT live.open, live.overdue, today.new_today, today.solved_today, period.*
FROM live, today, period
