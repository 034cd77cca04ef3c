-- The bounding box (lon/lat) of the caller's jurisdiction unit.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom)::geometry AS e FROM grid_unit WHERE region_code = %(region_code)s AND code = %(scope)s) s
