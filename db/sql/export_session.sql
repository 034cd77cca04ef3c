-- The export's read transaction: no JIT. The layer query's estimated cost (its per-row functions)
-- makes PostgreSQL compile it, which costs seconds and gains nothing on a plain scan and join.
SET LOCAL jit = off
