-- The categories and the region's cells whose names (Chinese or English) contain the console's
-- free text, case-insensitively: console_filter.sql matches their incidents. NULL when none.
SELECT (SELECT array_agg(c.code ORDER BY c.code) FROM incident_category c
        WHERE strpos(lower(c.name || ' ' || c.name_en), lower(%(text)s)) > 0),
       (SELECT array_agg(g.code ORDER BY g.code) FROM grid_unit g
        WHERE g.region_code = %(region_code)s AND g.level = 4
          AND strpos(lower(g.name || ' ' || coalesce(g.name_en, '')), lower(%(text)s)) > 0)
