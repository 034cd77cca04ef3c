-- Bulk loads only: the registry tables' secondary indexes (not those of a constraint), dropped
-- before a COPY and rebuilt after it (one sort each instead of a random insert per row).
SELECT i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename = ANY(%(tables)s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
ORDER BY i.tablename, i.indexname
