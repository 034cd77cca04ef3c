-- Demo only: the region's most recent dispute incidents (GB/T 31000 domain 7) filed as disputes,
-- each with the nearest mediation station and a state that follows the incident's phase; and the
-- most recent incidents linked to the nearest house of their cell (the people and house involved).
WITH d AS (
    INSERT INTO reg_dispute (region_code, cell_code, kind, summary, parties, state, mediation_id, incident_id,
                             opened_at, settled_at, synthetic)
    SELECT i.region_code, i.cell_code, i.category_code, c.name, 2,
           CASE incident_phase(i.state) WHEN 'open' THEN 'mediating' WHEN 'resolved' THEN 'settled'
                ELSE CASE WHEN i.state = 'rejected' THEN 'referred' ELSE 'settled' END END,
           (SELECT f.id FROM facility f WHERE f.region_code = i.region_code AND f.kind = 'mediation_station'
            ORDER BY f.geom <-> i.geom LIMIT 1),
           i.id, i.received_at, i.resolved_at, true
    FROM incident i JOIN incident_category c ON c.code = i.category_code
    WHERE i.region_code = %(region_code)s AND c.gbt31000_domain = 7
    ORDER BY i.received_at DESC LIMIT %(limit)s
    RETURNING 1
), l AS (
    INSERT INTO reg_incident_link (region_code, incident_id, house_id)
    SELECT i.region_code, i.id, h.id
    FROM (SELECT * FROM incident WHERE region_code = %(region_code)s ORDER BY received_at DESC LIMIT %(limit)s) i
    CROSS JOIN LATERAL (SELECT id FROM reg_house h WHERE h.cell_code = i.cell_code
                        ORDER BY h.geom <-> i.geom LIMIT 1) h
    RETURNING 1
)
SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM l)
