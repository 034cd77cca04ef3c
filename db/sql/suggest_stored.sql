-- The cached station suggestion for a region, jurisdiction unit, kind and minutes, if any.
SELECT road_version, facilities_hash, answer, computed_at
FROM coverage_suggestion
WHERE region_code = %(region)s AND scope = %(scope)s AND kind = %(kind)s AND minutes = %(minutes)s
