-- The cell of an existing local record by its client UUID.
SELECT cell_code, kind_code FROM reg_extension_record WHERE uid = %(uid)s AND region_code = %(region_code)s
