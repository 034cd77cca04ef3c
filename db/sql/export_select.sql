-- Any layer's rows as a caller may see them. The inner query is the layer's own SQL file (it
-- applies the jurisdiction and its filters); the columns are its fields, masked or suppressed for
-- the caller's role; the conditions (bbox, property, feature id) apply to the masked values, so a
-- filter on a masked field cannot reveal what the mask hides. _key is the layer's paging key (an
-- indexed column: keyset pages, layers.base.Layer.key). Simple subqueries: PostgreSQL pushes
-- the conditions down into the inner query, where its indexes are.
SELECT r.fid, {geom} AS geom, {keys}
FROM (SELECT r0.fid, r0.geom, {key} AS _key, {columns} FROM (
{inner}
) r0) r
WHERE {where}
{order}
