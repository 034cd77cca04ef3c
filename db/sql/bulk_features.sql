-- What a bulk load of the given tables defers until after its COPY (db.bulk.defer): their
-- secondary indexes (not those behind a constraint: primary keys stay), their foreign keys, and
-- the named statement triggers; and the primary keys of the tables named in keyed (tables no
-- foreign key references: the roll-ups); each with the definition that restores it.
SELECT 'index' AS kind, c.relname AS tab, i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
UNION ALL
SELECT 'fkey', c.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace AND k.contype = 'f'
UNION ALL
SELECT 'key', c.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname = ANY(%(keyed)s) AND c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace
  AND k.contype = 'p'
UNION ALL
SELECT 'trigger', c.relname, t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relname = ANY(%(tables)s) AND c.relnamespace = 'public'::regnamespace AND t.tgname = ANY(%(triggers)s)
ORDER BY 1, 2, 3
