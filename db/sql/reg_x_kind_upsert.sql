-- Declare (or redeclare) a local ("X") record type: data, not code.
INSERT INTO reg_extension_kind (code, region_code, name, name_en, fields, personal)
VALUES (%(code)s, %(region_code)s, %(name)s, %(name_en)s, %(fields)s::jsonb, %(personal)s)
ON CONFLICT (region_code, code) DO UPDATE
   SET name = excluded.name, name_en = excluded.name_en, fields = excluded.fields, personal = excluded.personal
