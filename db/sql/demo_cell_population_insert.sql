INSERT INTO cell_population (cell_code, region_code, population, households, synthetic) VALUES %s
