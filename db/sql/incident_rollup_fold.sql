-- Fold the roll-up's pending change rows into its rows (0011_report_path.sql); returns how many
-- change rows were folded (0 when another session is folding at this moment).
SELECT incident_rollup_fold()
