-- A local ("X") record type of the region, with its declared fields.
SELECT code, name, name_en, fields, personal FROM reg_extension_kind
WHERE region_code = %(region_code)s AND (%(code)s::text IS NULL OR code = %(code)s) ORDER BY code
