-- Bulk loads only: the foreign keys of the registry tables (name, table, definition), dropped
-- before a COPY and added back after it, so each is checked once set-based, not once per row.
SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%(tables)s)
ORDER BY c.conrelid::regclass::text, c.conname
