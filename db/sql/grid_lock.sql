-- One grid import at a time (released at commit/rollback), so check-then-write is not raced.
SELECT pg_advisory_xact_lock(hashtext('onemap.grid_import'))
