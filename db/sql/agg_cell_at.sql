-- The level-4 cell holding a clicked point (the database's own rule).
SELECT grid_cell_at(%(region_code)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
