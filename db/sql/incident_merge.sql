-- Merge a duplicate into another incident (0022_merge.sql).
SELECT id FROM incident_merge(%(dup)s, %(into)s, %(actor)s, %(note)s, %(now)s)
