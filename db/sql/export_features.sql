-- A layer's rows as GeoJSON Feature text, built here rather than value by value in Python (the OGC
-- API's pages): the rows, masks and conditions of export_select, then the feature. Times are
-- written by iso_local in the region's zone (%(feature_tz)s), as every JSON surface writes them.
-- (Braces are doubled: the file is a psycopg2.sql template.)
SELECT r.fid, '{{"type": "Feature", "id": ' || to_json(r.fid)::text || ', "geometry": '
       || coalesce(ST_AsGeoJSON(r.geom, 7), 'null') || ', "properties": ' || json_build_object({props})::text
       || '}}' AS feature
FROM (SELECT r0.fid, r0.geom, {key} AS _key, {columns} FROM (
{inner}
) r0) r
WHERE {where}
{order}
