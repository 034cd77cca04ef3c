-- Importing a level-1 unit creates its region (named after the unit) when it is not there yet.
INSERT INTO region (region_code, name)
VALUES (%(region_code)s, %(name)s)
ON CONFLICT (region_code) DO NOTHING
