-- Restore (and validate, set-based) the timeline's key after a bulk load.
ALTER TABLE incident_event ADD CONSTRAINT incident_event_incident_id_fkey
    FOREIGN KEY (incident_id) REFERENCES incident ON DELETE CASCADE
