-- Return visits (调后回访) of the reports received in the time range under a unit, as the roll-up
-- counts reports (by the region's local day of receipt): visits per outcome and the incidents
-- visited. Small: one row per visit, joined to its incident by key.
SELECT count(*) AS visits,
       count(*) FILTER (WHERE v.outcome = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE v.outcome = 'basic') AS basic,
       count(*) FILTER (WHERE v.outcome = 'unsatisfied') AS unsatisfied,
       count(*) FILTER (WHERE v.outcome = 'unreachable') AS unreachable,
       count(DISTINCT v.incident_id) AS visited
FROM return_visit v JOIN incident i ON i.id = v.incident_id
WHERE v.region_code = %(region_code)s AND v.cell_code LIKE %(scope)s || '%%'
  AND i.received_at >= %(since_ts)s AND i.received_at < %(until_ts)s
  AND (%(categories)s::text[] IS NULL OR i.category_code = ANY(%(categories)s::text[]))
