-- Link an incident to a person or a house (once).
INSERT INTO reg_incident_link (region_code, incident_id, person_id, house_id, user_id)
VALUES (%(region_code)s, %(incident_id)s, %(person_id)s, %(house_id)s, %(user_id)s)
ON CONFLICT DO NOTHING
RETURNING id
