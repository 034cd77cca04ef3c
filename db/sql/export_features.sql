-- One page of a layer's rows as GeoJSON Feature text, built here rather than value by value in
-- Python (the OGC API's pages): the rows, masks and conditions of export_select, paged inside, then
-- the features of the page only (an offset arrives as a key: layers.base.key_at). Times are written
-- by iso_local in the region's zone (%(feature_tz)s), as every JSON surface writes them.
-- (Braces are doubled: the file is a psycopg2.sql template.)
SELECT p.fid, '{{"type": "Feature", "id": ' || to_json(p.fid)::text || ', "geometry": '
       || coalesce(ST_AsGeoJSON(p.geom, 7), 'null') || ', "properties": ' || json_build_object({props})::text
       || '}}' AS feature
FROM (SELECT r.* FROM (SELECT r0.fid, r0.geom, {key} AS _key, {columns} FROM (
{inner}
) r0) r
WHERE {where}
ORDER BY r._key
LIMIT %(page_limit)s) p
ORDER BY p._key
