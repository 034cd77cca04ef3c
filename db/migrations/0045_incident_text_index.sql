-- 0045 free text in the dispatch console from an index, not a scan of every description.
--
-- The console's free text matches a case-insensitive substring of the description. At 10M
-- incidents a scan took 19 s. Chinese search terms are mostly one or two characters ("漏水",
-- "垃圾"), which pg_trgm cannot index (a trigram needs three), so the index holds each
-- description's characters: a description containing the text contains all of its characters,
-- and the index finds those rows at any text length; the substring test then rechecks them
-- (console_filter.sql). 15 MB and ~5 s to build at 1M demo incidents.
CREATE INDEX incident_text_chars_idx ON incident USING gin (string_to_array(lower(description), NULL));
