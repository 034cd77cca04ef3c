-- Bulk loads only: the timeline's key to its incident is checked once after the load (one join)
-- instead of once per event row; ACCESS EXCLUSIVE on incident_event until the transaction ends.
ALTER TABLE incident_event DROP CONSTRAINT incident_event_incident_id_fkey
