-- What a cached station suggestion depends on (coverage_suggestion, 0038): the region's road
-- network version (one indexed row, 0034) and one digest of the facilities of the kind and of the
-- residents per cell (cell_population, 401 rows: the demand the suggestion weighs).
SELECT (SELECT version FROM road_network WHERE region_code = %(region)s),
       md5((SELECT coalesce(string_agg(concat_ws(',', id, md5(ST_AsBinary(geom))), ';' ORDER BY id), '')
            FROM facility WHERE region_code = %(region)s AND kind = %(kind)s)
           || '|' || (SELECT coalesce(string_agg(cell_code || ':' || population, ';' ORDER BY cell_code), '')
                      FROM cell_population WHERE region_code = %(region)s))
