-- Add or update a household by its client UUID; its cell is its house's.
INSERT INTO reg_household (uid, region_code, house_id, cell_code, kind, moved_out_at, updated_at)
SELECT %(uid)s, h.region_code, h.id, h.cell_code, %(kind)s, %(moved_out_at)s, now()
FROM reg_house h WHERE h.id = %(house_id)s AND h.region_code = %(region_code)s
ON CONFLICT (uid) DO UPDATE
   SET house_id = excluded.house_id, cell_code = excluded.cell_code, kind = excluded.kind,
       moved_out_at = excluded.moved_out_at, updated_at = now()
 WHERE reg_household.region_code = excluded.region_code
RETURNING id, cell_code, (xmax = 0) AS created
