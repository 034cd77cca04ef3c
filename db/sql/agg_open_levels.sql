-- Open incidents by the level now handling them (for the escalation funnel).
SELECT handling_level, count(*) FROM incident
WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
  AND incident_is_open(state)
  AND received_at >= %(since_ts)s AND received_at < %(until_ts)s
  AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
GROUP BY 1
