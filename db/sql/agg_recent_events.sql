-- The latest timeline events under the scope (the wall's ticker and the alarm list).
SELECT e.at, e.action, e.to_state, e.level, i.id, i.category_code, c.name, c.name_en, i.cell_code,
       u.name AS cell_name, incident_is_overdue(i.state, i.due_at, %(now)s) AS overdue
FROM incident_event e JOIN incident i ON i.id = e.incident_id
JOIN incident_category c ON c.code = i.category_code JOIN grid_unit u ON u.code = i.cell_code
WHERE e.region_code = %(region_code)s AND i.cell_code LIKE %(scope)s || '%%' AND e.at <= %(now)s
ORDER BY e.at DESC, e.id DESC LIMIT %(limit)s
