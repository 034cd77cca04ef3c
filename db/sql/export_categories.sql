-- Incident categories by code with their Chinese and English names: export filters accept any of
-- the three and name the values that match none.
SELECT code, name, name_en FROM incident_category ORDER BY sort_order, code
