-- The county's own name (Chinese, English) from its region row: what titles say.
SELECT name, coalesce(name_en, name) FROM region WHERE region_code = %(region_code)s
