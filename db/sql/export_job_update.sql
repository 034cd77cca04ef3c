-- Progress or the end of a background export (NULL keeps a column as it is).
UPDATE export_job SET state = %(state)s, done = coalesce(%(done)s, done),
       file_name = coalesce(%(file_name)s, file_name), error = coalesce(%(error)s, error),
       finished_at = CASE WHEN %(state)s IN ('done', 'failed') THEN now() ELSE finished_at END
WHERE id = %(id)s
