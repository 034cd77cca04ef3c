-- The cell of a special-group record in the region.
SELECT cell_code FROM reg_special_group WHERE id = %(id)s AND region_code = %(region_code)s
