-- The actions the state machine allows from an incident's current state, among those the
-- caller's role may take (data.incidents.allowed_actions passes them): the transition table is
-- the one source (0003_workflow.sql), so the app never offers a button the database would refuse.
SELECT t.action
FROM incident i JOIN incident_transition t ON t.from_state = i.state
WHERE i.id = %(id)s AND t.action = ANY(%(actions)s)
ORDER BY t.action
