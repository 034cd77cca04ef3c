-- The kept bulletins of the units under %(scope)s, newest first.
SELECT b.id, b.unit_code, u.name, u.name_en, b.period, b.format, b.lang, b.file_name, b.size_bytes, b.scheduled,
       b.created_at, b.created_by
FROM bulletin b LEFT JOIN grid_unit u ON u.code = b.unit_code
WHERE b.region_code = %(region_code)s AND b.unit_code LIKE %(scope)s || '%%'
  AND (%(unit)s::text IS NULL OR b.unit_code = %(unit)s)
  AND (%(period)s::text IS NULL OR b.period = %(period)s)
  AND (%(format)s::text IS NULL OR b.format = %(format)s)
  AND (%(lang)s::text IS NULL OR b.lang = %(lang)s)
ORDER BY b.created_at DESC, b.id
LIMIT %(limit)s
