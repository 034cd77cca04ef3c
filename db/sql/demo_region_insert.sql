INSERT INTO region (region_code, name, name_en, timezone)
VALUES (%(region_code)s, %(name)s, %(name_en)s, %(timezone)s)
