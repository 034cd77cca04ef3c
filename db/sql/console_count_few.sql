-- How many incidents the console's filters match when few do (console_filter.sql): an exact
-- count, planned for all the matches (see console_page_few.sql).
SELECT count(*) FROM ({filter}) f
