-- The records of a local ("X") type under the scope, for the xlsx export.
SELECT uid::text, cell_code, data
FROM reg_extension_record
WHERE region_code = %(region_code)s AND kind_code = %(kind)s AND cell_code LIKE %(scope)s || '%%'
ORDER BY cell_code, id
