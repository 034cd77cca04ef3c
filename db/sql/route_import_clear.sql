-- Remove a region's road network before an import replaces it (same transaction).
WITH e AS (DELETE FROM road_edge WHERE region_code = %(region)s)
DELETE FROM road_vertex WHERE region_code = %(region)s
