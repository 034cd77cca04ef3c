-- The houses layer's "clusters" map variant (low zoom): one feature per cell under the scope
-- with houses, at a point inside the cell, with the number of houses.
SELECT c.code AS fid, ST_PointOnSurface(c.geom) AS geom, true AS cluster, c.code AS cell_code, c.name,
       n.houses::int AS count
FROM (SELECT cell_code, count(*) AS houses FROM reg_house
      WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%' GROUP BY cell_code) n
JOIN grid_unit c ON c.code = n.cell_code
