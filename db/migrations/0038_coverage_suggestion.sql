-- 0038 the suggested new station, cached (data/routing/suggestion.py): computing it takes seconds
-- (pgRouting over every uncovered demand point), so the map's layer and the API read it from here.
-- One row per region, jurisdiction unit it was computed for (the caller's: the same actor rule as
-- the API), facility kind and minutes (0: each cell's own 10/30-minute promise). It is current
-- while the region's road network version (road_network, 0034) and the digest of the kind's
-- facilities are those it was computed from, and it is younger than a day; otherwise a read
-- computes it again and replaces the row.
CREATE TABLE coverage_suggestion (
    region_code      char(6) NOT NULL REFERENCES region ON DELETE CASCADE,
    scope            text NOT NULL,
    kind             text NOT NULL,
    minutes          smallint NOT NULL CHECK (minutes BETWEEN 0 AND 240),
    road_version     bigint,
    facilities_hash  text NOT NULL,
    answer           jsonb NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region_code, scope, kind, minutes)
);
