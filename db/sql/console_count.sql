-- How many incidents the console's filters match (console_filter.sql), counted up to
-- %(cap)s + 1: past the cap the table says "more than" (an exact count of 10M rows would take
-- seconds for a number nobody reads).
SELECT count(*) FROM (SELECT 1 FROM ({filter}) f LIMIT %(cap)s + 1) c
