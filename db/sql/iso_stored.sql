-- The cached isochrone's digest, if any.
SELECT source_hash FROM isochrone WHERE region_code = %(region)s AND kind = %(kind)s AND minutes = %(minutes)s
