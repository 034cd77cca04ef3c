-- 0041 the open incidents, counted from one index alone. The dashboard's "open" and "overdue now"
-- (KPIs, children, cell metrics, the clusters layer) count the open incidents under a unit; at
-- 10M incidents about 50,000 are open, spread over as many heap pages, and reading them cost
-- ~150 ms a panel. This partial index holds every column those counts filter on, so they are
-- index-only scans (~15 ms at 10M, bench/README.md): PostgreSQL keeps it with every write, as
-- it keeps the table. (It needs the visibility map: the bulk loader vacuums after a load.)
CREATE INDEX IF NOT EXISTS incident_open_cover_idx ON incident (region_code, cell_code)
    INCLUDE (state, due_at, category_code, department_code, handling_level)
    WHERE incident_is_open(state);
