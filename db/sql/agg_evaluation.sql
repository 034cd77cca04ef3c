-- The loop's steps and its evaluation over the time range for a unit (GB/T 30428: open,
-- dispatch, close, rework, escalation, evaluation), from the timeline and the return visits:
-- cases accepted (立案), dispatched, resolved, closed (merged duplicates are not closures),
-- reopened, merged, escalations per level reached, return visits and their outcomes.
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
), visits AS (
    SELECT count(*) AS visits,
           count(*) FILTER (WHERE outcome = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE outcome = 'basic') AS basic,
           count(*) FILTER (WHERE outcome = 'unsatisfied') AS unsatisfied,
           count(*) FILTER (WHERE outcome = 'unreachable') AS unreachable
    FROM return_visit v JOIN incident i ON i.id = v.incident_id
    WHERE v.region_code = %(region_code)s AND v.visited_at >= %(since_ts)s AND v.visited_at < %(until_ts)s
      AND v.cell_code LIKE %(scope)s || '%%'
      AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
)
SELECT steps.*, visits.* FROM steps, visits
