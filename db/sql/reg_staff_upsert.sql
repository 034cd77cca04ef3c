-- Add or update a staff member of an organisation by its client UUID (the phone only masked);
-- a phone of NULL leaves the stored mask. (id, the organisation's cell, created).
WITH up AS (
    INSERT INTO reg_org_staff (uid, region_code, org_id, name, post, phone_masked, updated_at)
    VALUES (%(uid)s, %(region_code)s, %(org_id)s, %(name)s, %(post)s, %(phone_masked)s, now())
    ON CONFLICT (uid) DO UPDATE
       SET name = excluded.name, post = excluded.post,
           phone_masked = coalesce(excluded.phone_masked, reg_org_staff.phone_masked), updated_at = now()
     WHERE reg_org_staff.region_code = excluded.region_code AND reg_org_staff.org_id = excluded.org_id
    RETURNING id, org_id, (xmax = 0) AS created)
SELECT up.id, o.cell_code, up.created FROM up JOIN reg_org o ON o.id = up.org_id
