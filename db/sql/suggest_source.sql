-- What a cached station suggestion depends on (coverage_suggestion, 0038): the region's road
-- network version (one indexed row, 0034) and a digest of the facilities of the kind.
SELECT (SELECT version FROM road_network WHERE region_code = %(region)s),
       (SELECT md5(coalesce(string_agg(concat_ws(',', id, md5(ST_AsBinary(geom))), ';' ORDER BY id), ''))
        FROM facility WHERE region_code = %(region)s AND kind = %(kind)s)
