-- A house footprint's checks before it is stored: valid (and why not), its area in m², whether it
-- touches the house's cell and lies near the house's point.
WITH f AS (SELECT ST_GeomFromText(%(wkt)s, 4326) AS g),
     p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
SELECT ST_IsValid(f.g) AND NOT ST_IsEmpty(f.g), ST_IsValidReason(f.g),
       CASE WHEN ST_IsValid(f.g) THEN ST_Area(f.g::geography) ELSE 0 END,
       EXISTS (SELECT 1 FROM grid_unit c WHERE c.code = %(cell_code)s AND ST_Intersects(c.geom, f.g)),
       ST_DWithin(f.g::geography, p.g::geography, 100)
FROM f, p
