-- How many photos and bytes an incident holds, with uploads to it serialised (two phones sending
-- at once cannot both slip under the quota): the lock lasts until the upload commits.
SELECT pg_advisory_xact_lock(hashtextextended(%(incident_id)s, 311)) IS NOT NULL AS locked,
       (SELECT count(*) FROM incident_photo WHERE incident_id = %(incident_id)s::uuid) AS photos,
       (SELECT coalesce(sum(size_bytes), 0) FROM incident_photo WHERE incident_id = %(incident_id)s::uuid) AS bytes
