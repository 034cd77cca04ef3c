-- 0043 incidents by deadline: the dispatch console sorts its table by deadline ("by due"); at 10M
-- incidents that was a sort of every row (4 s); with this index the page is read in order and
-- stops after it (data.console.page, bench/README.md).
CREATE INDEX IF NOT EXISTS incident_due_idx ON incident (region_code, due_at);
