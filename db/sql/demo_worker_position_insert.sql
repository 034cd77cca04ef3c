INSERT INTO worker_position (worker_id, region_code, at, geom, accuracy_m) VALUES %s
