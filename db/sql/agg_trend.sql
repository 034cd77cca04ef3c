-- Reports and solutions per day (or week) over the time range, from the roll-up of the scope's own
-- unit by day (rollup_span, 0035).
SELECT date_trunc(%(bucket)s, day)::date AS d, sum(n)::bigint AS reported,
       sum(solved_4 + solved_3 + solved_2 + solved_1)::bigint AS solved, sum(solved_4)::bigint AS solved_in_grid
FROM rollup_span(%(scope)s, (length(%(scope)s) - 3) / 3, %(since)s, %(until)s, %(categories)s::text[], true)
GROUP BY 1 HAVING sum(n) > 0 ORDER BY 1
