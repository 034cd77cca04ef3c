-- The loop's steps over the time range for a unit (GB/T 30428: open, dispatch, close, rework,
-- escalation), from the timeline, by when they happened: cases accepted (立案), dispatched,
-- resolutions, closures (merged duplicates are not closures), reopenings, merges, escalations
-- per level reached.
WITH ev AS (
    SELECT e.action, e.level, e.incident_id
    FROM incident_event e JOIN incident i ON i.id = e.incident_id
    WHERE e.region_code = %(region_code)s AND e.at >= %(since_ts)s AND e.at < %(until_ts)s
      AND i.cell_code LIKE %(scope)s || '%%'
      AND e.action IN ('accept', 'dispatch', 'resolve', 'close', 'reopen', 'merge', 'escalate')
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
), steps AS (
    SELECT count(DISTINCT incident_id) FILTER (WHERE action = 'accept') AS opened,
           count(DISTINCT incident_id) FILTER (WHERE action = 'dispatch') AS dispatched,
           count(*) FILTER (WHERE action = 'resolve') AS resolutions,
           count(*) FILTER (WHERE action = 'close') AS closed,
           count(*) FILTER (WHERE action = 'reopen') AS reopens,
           count(*) FILTER (WHERE action = 'merge') AS merged,
           count(*) FILTER (WHERE action = 'escalate' AND level = 3) AS esc_3,
           count(*) FILTER (WHERE action = 'escalate' AND level = 2) AS esc_2,
           count(*) FILTER (WHERE action = 'escalate' AND level = 1) AS esc_1
    FROM ev
)
SELECT * FROM steps
