-- Department kind and names of a region, for chart labels.
SELECT kind, name, coalesce(name_en, name) FROM department WHERE region_code = %(region_code)s
