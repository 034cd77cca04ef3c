-- Live feed replay: the timeline events after an id (a page's Last-Event-ID, or the listener
-- catching up after it lost the database), oldest first, bounded by the caller. Each payload is
-- live_event_payload() (0039), the very function the notify trigger sends, so a replayed event and
-- a pushed one are the same to a page.
SELECT e.id, live_event_payload(e.id)::text AS payload
FROM incident_event e
WHERE e.id > %(after)s
ORDER BY e.id
LIMIT %(limit)s
