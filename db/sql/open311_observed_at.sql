-- When a report under this id was observed (to rebuild a retried Open311 POST's payload exactly).
SELECT observed_at FROM incident WHERE id = %(id)s
