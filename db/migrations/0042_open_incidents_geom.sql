-- 0042 the open incidents by place: the map's points variant (db/sql/layer_incident_points.sql)
-- reads the open incidents in the viewport first; at 10M incidents the county seat's box holds
-- 3.1M incidents but 15,000 open ones, which this small GiST index finds alone.
CREATE INDEX IF NOT EXISTS incident_open_geom_idx ON incident USING gist (geom) WHERE incident_is_open(state);
