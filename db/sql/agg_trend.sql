-- Reports and solutions per day (or week) over the time range, from the roll-up.
SELECT date_trunc(%(bucket)s, day)::date AS d, sum(n) AS reported,
       sum(solved_4 + solved_3 + solved_2 + solved_1) AS solved, sum(solved_4) AS solved_in_grid
FROM incident_rollup
WHERE cell_code LIKE %(scope)s || '%%' AND day >= %(since)s AND day < %(until)s
  AND (%(categories)s::text[] IS NULL OR category_code = ANY(%(categories)s::text[]))
GROUP BY 1 ORDER BY 1
