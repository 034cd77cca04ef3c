-- A digest of what an isochrone is built from: the region's road edges (topology, costs,
-- geometry), the facilities of the kind, and the build parameters. Any change gives a new digest.
SELECT md5(concat_ws('|',
    (SELECT md5(string_agg(concat_ws(',', id, source, target, cost, reverse_cost, md5(ST_AsBinary(geom))),
                           ';' ORDER BY id))
     FROM road_edge WHERE region_code = %(region)s),
    (SELECT md5(string_agg(concat_ws(',', id, md5(ST_AsBinary(geom))), ';' ORDER BY id))
     FROM facility WHERE region_code = %(region)s AND kind = %(kind)s),
    %(params)s::text))
