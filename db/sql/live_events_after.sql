-- Live feed replay: the timeline events after an id (a page's Last-Event-ID, or the listener
-- catching up after it lost the database), oldest first, bounded by the caller. Each row's
-- payload has exactly the shape of incident_event_notify()'s notification (0010), so a replayed
-- event and a pushed one are the same to a page.
SELECT e.id, json_build_object(
        'id', e.id, 'incident_id', e.incident_id, 'region_code', e.region_code, 'action', e.action,
        'state', e.to_state, 'phase', incident_phase(i.state),
        'overdue', incident_is_overdue(i.state, i.due_at, e.at),
        'level', e.level, 'cell_code', i.cell_code, 'at', e.at)::text AS payload
FROM incident_event e
JOIN incident i ON i.id = e.incident_id
WHERE e.id > %(after)s
ORDER BY e.id
LIMIT %(limit)s
