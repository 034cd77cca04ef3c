-- 0032 OGC API keyset paging (issue 12): the incidents layer pages in id order within a region
-- (layers.incidents: key "pk"). This index matches the layer's WHERE (region_code = …) and its
-- ORDER BY id, so a page after any id is an index range scan: page 1 and page 1,000 cost the same,
-- and no page sorts the jurisdiction's rows (the old order was id::text, a sort of every row).
CREATE INDEX IF NOT EXISTS incident_region_id_idx ON incident (region_code, id);
