-- Escalate what has missed its deadline (exactly once per level; see 0003_workflow.sql).
SELECT incident_escalate_due(%(now)s, %(region_code)s)
