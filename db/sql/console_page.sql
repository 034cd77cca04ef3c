-- One page of the console's table: the matches (console_filter.sql) in the order
-- composed in data.console from a fixed list of columns, as JSON in that order. The CTE is
-- NOT MATERIALIZED when the planner expects many matches (the page is read in index order and
-- stops after it) and MATERIALIZED when it expects few (the matches are found first, by whatever
-- index suits the filters, then sorted: reading in the sort's order hoping to stop early would
-- read the whole table for a handful of matches). The matches carry only their sort keys; the
-- page's rows are joined to their incident and names after the LIMIT. Unmasked:
-- data.policy.incidents_out masks rows.
WITH f AS {materialized} ({filter}), tz AS (SELECT timezone FROM region WHERE region_code = %(region_code)s)
SELECT coalesce(json_agg(json_build_object(
           'id', i.id, 'number', left(i.id::text, 8), 'category', i.category_code,
           'category_name', c.name, 'category_name_en', c.name_en,
           'description', i.description, 'reporter_id', i.reporter_id,
           'cell_code', i.cell_code, 'cell_name', g.name, 'cell_name_en', g.name_en,
           'state', i.state, 'handling_level', i.handling_level,
           'overdue', incident_is_overdue(i.state, i.due_at, %(now)s),
           'department_code', i.department_code, 'department_name', d.name,
           'department_name_en', d.name_en,
           'received_at', iso_local(i.received_at, (TABLE tz)),
           'due_at', iso_local(i.due_at, (TABLE tz))) ORDER BY {order}), '[]'::json)
FROM (SELECT f.* FROM f ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) f
JOIN incident i ON i.id = f.id
JOIN incident_category c ON c.code = i.category_code
JOIN grid_unit g ON g.code = i.cell_code
LEFT JOIN department d ON d.code = i.department_code
