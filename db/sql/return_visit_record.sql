-- Record a return visit, reopening the case when asked (0023_return_visit.sql).
SELECT incident_return_visit(%(id)s, %(outcome)s, %(note)s, %(actor)s, %(reopen)s, %(now)s)
