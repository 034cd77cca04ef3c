-- One photo of an incident (the caller's right to it is checked before: data.incidents.photo).
SELECT content_type, data FROM incident_photo WHERE id = %(id)s AND incident_id = %(incident_id)s::uuid
