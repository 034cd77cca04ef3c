-- One page of the console's table: the matches (console_filter.sql) in the order
-- composed in data.console from a fixed list of columns, as JSON in that order. The CTE is
-- NOT MATERIALIZED when the planner expects many matches (the page is read in index order and
-- stops after it) and MATERIALIZED when it expects few (the matches are found first, by whatever
-- index suits the filters, then sorted: reading in the sort's order hoping to stop early would
-- read the whole table for a handful of matches). Unmasked: data.policy.incidents_out masks rows.
WITH f AS {materialized} ({filter}), tz AS (SELECT timezone FROM region WHERE region_code = %(region_code)s)
SELECT coalesce(json_agg(json_build_object(
           'id', p.id, 'number', left(p.id::text, 8), 'category', p.category_code,
           'category_name', p.category_name, 'category_name_en', p.category_name_en,
           'description', p.description, 'reporter_id', p.reporter_id,
           'cell_code', p.cell_code, 'cell_name', p.cell_name, 'cell_name_en', p.cell_name_en,
           'state', p.state, 'handling_level', p.handling_level, 'overdue', p.is_overdue,
           'department_code', p.department_code, 'department_name', p.department_name,
           'department_name_en', p.department_name_en,
           'received_at', iso_local(p.received_at, (TABLE tz)),
           'due_at', iso_local(p.due_at, (TABLE tz)))), '[]'::json)  -- json_agg keeps the page's order
FROM (SELECT f.* FROM f ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) p
