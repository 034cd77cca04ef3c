-- The paging key of the row at position %(seek)s (0-based) of a layer's rows in key order, as
-- export_select.sql selects them (the same inner query, masked columns and conditions): an OGC
-- offset turned into a key, so the page itself is a keyset page. Only the key and the columns
-- the conditions name are read for the rows skipped; no geometry or feature is built for them,
-- and the key is not cast either (a cast would run for every row skipped: 5M at 10M incidents).
SELECT r._key
FROM (SELECT r0.fid, r0.geom, {key} AS _key, {columns} FROM (
{inner}
) r0) r
WHERE {where}
ORDER BY r._key
OFFSET %(seek)s LIMIT 1
