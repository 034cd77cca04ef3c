-- Release suggest_lock.sql's lock.
SELECT pg_advisory_unlock(hashtext('coverage_suggestion'), hashtext(%(key)s))
