-- A photo of an incident; the same picture sent twice is stored once.
INSERT INTO incident_photo (incident_id, region_code, content_type, size_bytes, sha256, data, uploaded_by)
SELECT id, region_code, %(content_type)s, %(size)s, %(sha256)s, %(data)s, %(actor)s FROM incident WHERE id = %(id)s
ON CONFLICT (incident_id, sha256) DO UPDATE SET uploaded_at = incident_photo.uploaded_at
RETURNING id
