-- One computation of a station suggestion at a time per key, over every process: a second caller
-- waits here, then finds the first one's answer in coverage_suggestion. A session lock (the
-- computation commits the isochrones it rebuilds on the way): suggest_unlock.sql releases it.
SELECT pg_advisory_lock(hashtext('coverage_suggestion'), hashtext(%(key)s))
