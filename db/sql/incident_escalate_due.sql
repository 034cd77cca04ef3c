-- One batch of escalations: up to %(limit)s overdue incidents, each locked with SKIP LOCKED and
-- escalated exactly once per missed level (0011_report_path.sql). Returns (incidents, escalations).
SELECT incidents, escalations FROM incident_escalate_batch(%(now)s, %(region_code)s, %(limit)s)
