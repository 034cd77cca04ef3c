-- A generated bulletin, once its file is complete.
INSERT INTO bulletin (id, region_code, unit_code, period, format, lang, file_name, size_bytes, scheduled, created_by)
VALUES (%(id)s, %(region_code)s, %(unit_code)s, %(period)s, %(format)s, %(lang)s, %(file_name)s, %(size_bytes)s,
        %(scheduled)s, %(created_by)s)
