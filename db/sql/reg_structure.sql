-- The registry's charts under a scope: residents by age band and sex, houses by use.
SELECT 'age' AS what, CASE WHEN x.age < 15 THEN 'child' WHEN x.age < 60 THEN 'working' ELSE 'old' END AS key,
       x.sex, count(*)::int AS n
FROM (SELECT sex, extract(year FROM age(%(today)s::date, birth_date))::int AS age FROM reg_person
      WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%' AND moved_out_at IS NULL
        AND birth_date IS NOT NULL AND sex IS NOT NULL) x
GROUP BY 2, 3
UNION ALL
SELECT 'use', use, NULL, count(*)::int FROM reg_house
WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
GROUP BY use
ORDER BY 1, 2, 3
