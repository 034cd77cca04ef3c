-- The region's bounding box (lon/lat), from its level-1 unit.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom)::geometry AS e FROM grid_unit WHERE region_code = %(region_code)s AND level = 1) s
