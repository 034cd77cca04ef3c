-- How many features a layer query returns (the rows are export_select without its order).
SELECT count(*) FROM (
{rows}
) c
