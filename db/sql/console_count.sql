-- How many incidents the console's filters match (console_filter.sql). When the planner expects
-- many, counted up to the cap + 1 (data.console.COUNT_CAP; past it the table says "more than": an
-- exact count of 10M rows would take seconds for a number nobody reads); when it expects few, all
-- of them, planned for all of them (a plan hoping to stop early would read the whole table).
SELECT count(*) FROM (SELECT 1 FROM ({filter}) f {limit}) c
