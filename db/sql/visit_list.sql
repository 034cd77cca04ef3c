-- The caller's own visits from a time on, newest first; times in the region's zone (iso_local).
SELECT json_build_object('id', v.id, 'kind', v.kind, 'place', v.place, 'note', v.note,
                         'cell_code', v.cell_code, 'visited_at', iso_local(v.visited_at, r.timezone),
                         'lon', ST_X(v.geom), 'lat', ST_Y(v.geom))
FROM field_visit v JOIN region r ON r.region_code = v.region_code
WHERE v.user_id = %(user_id)s AND v.visited_at >= %(since)s
ORDER BY v.visited_at DESC, v.id
LIMIT %(limit)s
