-- Open incidents that may be the same case as a new report: same category, or a category the
-- same kind of department handles, within %(radius_m)s metres and received in the last
-- %(hours)s hours; in the caller's jurisdiction (domain.policy.row_params); nearest first, the
-- same category before related ones. No personal fields.
WITH p AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g,
           (SELECT department_kind FROM incident_category WHERE code = %(category)s) AS kind
)
SELECT i.id, i.category_code, c.name, c.name_en, i.state, i.cell_code, u.name, u.name_en,
       iso_local(i.received_at, r.timezone), round(ST_Distance(i.geom::geography, p.g::geography))::int,
       i.category_code = %(category)s
FROM p, incident i
JOIN incident_category c ON c.code = i.category_code
JOIN grid_unit u ON u.code = i.cell_code
JOIN region r ON r.region_code = i.region_code
WHERE i.region_code = %(region_code)s
  AND ST_DWithin(i.geom, p.g, %(radius_deg)s)
  AND ST_DWithin(i.geom::geography, p.g::geography, %(radius_m)s)
  AND incident_is_open(i.state) AND i.merged_into IS NULL
  AND i.received_at >= %(now)s - make_interval(hours => %(hours)s) AND i.received_at <= %(now)s
  AND (i.category_code = %(category)s OR c.department_kind = p.kind)
  AND (%(exclude)s::uuid IS NULL OR i.id <> %(exclude)s::uuid)
  AND ((i.cell_code LIKE %(scope)s || '%%' AND (%(department)s::text IS NULL OR i.department_code = %(department)s))
       OR (%(reporter_id)s::int IS NOT NULL AND i.reporter_id = %(reporter_id)s::int))
ORDER BY i.category_code = %(category)s DESC, 10, i.received_at DESC
LIMIT %(limit)s
