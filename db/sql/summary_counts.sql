-- Headline numbers for the caller's jurisdiction: the grid, its people and the incident loop now.
SELECT
    (SELECT count(*) FROM grid_unit WHERE region_code = %(region_code)s AND level = 2 AND code LIKE %(scope)s || '%%') AS towns,
    (SELECT count(*) FROM grid_unit WHERE region_code = %(region_code)s AND level = 3 AND code LIKE %(scope)s || '%%') AS villages,
    (SELECT count(*) FROM grid_unit WHERE region_code = %(region_code)s AND level = 4 AND code LIKE %(scope)s || '%%') AS cells,
    (SELECT count(*) FROM grid_worker WHERE region_code = %(region_code)s AND active
        AND unit_code LIKE %(scope)s || '%%') AS workers,
    (SELECT coalesce(sum(population), 0) FROM cell_population WHERE region_code = %(region_code)s
        AND cell_code LIKE %(scope)s || '%%') AS population,
    (SELECT coalesce(sum(households), 0) FROM cell_population WHERE region_code = %(region_code)s
        AND cell_code LIKE %(scope)s || '%%') AS households,
    (SELECT count(*) FROM incident WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
        AND incident_is_open(state)) AS open_incidents,
    (SELECT count(*) FROM incident WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%'
        AND incident_is_overdue(state, due_at, now())) AS overdue_incidents,
    (SELECT count(*) FROM incident WHERE region_code = %(region_code)s
        AND cell_code LIKE %(scope)s || '%%') AS incidents,
    (SELECT round(100.0 * count(*) FILTER (WHERE solved_level = 4) / nullif(count(solved_level), 0), 1)
       FROM incident WHERE region_code = %(region_code)s AND cell_code LIKE %(scope)s || '%%') AS solved_in_grid_pct
