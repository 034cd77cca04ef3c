-- The region's road network version (road_network, 0034): the in-memory graph a process holds is
-- current if it was loaded at this version.
SELECT version FROM road_network WHERE region_code = %(region)s
