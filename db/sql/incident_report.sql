-- A report in one call (0011_report_path.sql: category, inside the county, insert, first event,
-- idempotency on the id). data/incidents.py sends this and the response query (incident_get.sql,
-- whose parameters it shares the message with, hence the r_ prefix here) as one message.
SELECT incident_report(%(r_id)s, %(r_region)s, %(r_category)s, %(r_description)s, %(r_lon)s, %(r_lat)s,
                       %(r_observed_at)s, %(r_now)s, %(r_reporter_id)s, %(r_source)s, %(r_payload_sha256)s,
                       %(r_actor)s)
