-- Lock an incident for an action and read what the acting user must have seen (data.incidents.act
-- with an expected version): its state and the length of its timeline, which grows with every
-- change (an action, an escalation). Held until the action commits, so nothing slips in between.
SELECT i.state, (SELECT count(*) FROM incident_event e WHERE e.incident_id = i.id)
FROM incident i WHERE i.id = %(id)s
FOR UPDATE OF i
