-- 0009 what the live dashboard reads often: the newest timeline events of a region (wall ticker,
-- alarms) and today's solved incidents.
CREATE INDEX incident_event_region_at_idx ON incident_event (region_code, at);
CREATE INDEX incident_resolved_idx ON incident (region_code, resolved_at) WHERE resolved_at IS NOT NULL;
