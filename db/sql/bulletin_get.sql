-- One kept bulletin, if it belongs to a unit under %(scope)s.
SELECT id, unit_code, period, format, lang, file_name, size_bytes, scheduled, created_at, created_by
FROM bulletin
WHERE id = %(id)s AND region_code = %(region_code)s AND unit_code LIKE %(scope)s || '%%'
