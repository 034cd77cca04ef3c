-- Demo only: about one house in eight (chosen by its UUID, so the same for a seed) gets a small
-- rectangular footprint around its point (if the point lies inside its cell): 12 × 10 m for a
-- one-storey house, 24 × 14 m for a block.
UPDATE reg_house h
   SET footprint = ST_MakeEnvelope(
           ST_X(h.geom) - s.half_w / (111320.0 * cos(radians(ST_Y(h.geom)))), ST_Y(h.geom) - s.half_h / 110540.0,
           ST_X(h.geom) + s.half_w / (111320.0 * cos(radians(ST_Y(h.geom)))), ST_Y(h.geom) + s.half_h / 110540.0, 4326)
  FROM (SELECT id, CASE WHEN coalesce(floors, 1) > 1 THEN 12 ELSE 6 END AS half_w,
               CASE WHEN coalesce(floors, 1) > 1 THEN 7 ELSE 5 END AS half_h
        FROM reg_house WHERE region_code = %(region_code)s AND synthetic AND get_byte(uuid_send(uid), 0) < 32) s,
       grid_unit c
 WHERE h.id = s.id AND c.code = h.cell_code AND ST_Contains(c.geom, h.geom)
