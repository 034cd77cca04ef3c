INSERT INTO road_vertex (id, region_code, geom) VALUES %s
