INSERT INTO road_edge (region_code, source, target, cost, reverse_cost, length_m, road_class, name,
                       speed_kmh, geom)
VALUES %s
