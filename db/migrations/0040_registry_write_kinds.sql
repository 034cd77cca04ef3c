-- The Idempotency-Key rule of registry writes (0037) for every registry the API writes: the
-- organisations and their staff, public-order places, schools and protected lines (0036) too,
-- so a phone's or a script's retry of any registry write is made once.
ALTER TABLE reg_write DROP CONSTRAINT reg_write_kind_check;
ALTER TABLE reg_write ADD CONSTRAINT reg_write_kind_check
    CHECK (kind IN ('house', 'household', 'person', 'org', 'staff', 'place', 'school', 'line'));
