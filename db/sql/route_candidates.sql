-- Who could respond to an incident: the base of the department its category goes to, police
-- stations, governance centres (public places of the region), and the active grid workers of the
-- caller's jurisdiction (%(scope)s, domain.policy.row_params) whose last fix is within the on-duty
-- window; the nearest in a straight line first (the caller routes the first few by road). Worker
-- names leave unmasked only for the roles that see staff names (data.policy.worker_out).
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
c AS (
    SELECT 'department' AS kind, d.code AS ref, d.name, d.base_geom AS geom, NULL::timestamptz AS fix_at
    FROM department d JOIN incident_category ic ON ic.department_kind = d.kind
    WHERE d.region_code = %(region)s AND ic.code = %(category)s AND d.base_geom IS NOT NULL
    UNION ALL
    SELECT f.kind, f.id::text, f.name, f.geom, NULL
    FROM facility f
    WHERE f.region_code = %(region)s AND f.kind IN ('police_station', 'governance_centre')
    UNION ALL
    SELECT 'worker', w.id::text, w.name, p.geom, p.at
    FROM grid_worker w
    JOIN LATERAL (SELECT at, geom FROM worker_position
                  WHERE worker_id = w.id AND at <= %(now)s ORDER BY at DESC LIMIT 1) p ON true
    WHERE w.region_code = %(region)s AND w.unit_code LIKE %(scope)s || '%%' AND w.active AND p.at >= %(since)s
)
SELECT c.kind, c.ref, c.name, ST_X(c.geom), ST_Y(c.geom), c.fix_at,
       ST_Distance(c.geom::geography, here.g::geography) AS straight_m
FROM c, here
ORDER BY straight_m, c.kind, c.ref
LIMIT %(limit)s
