-- The region a failed login with an unknown name is audited under (the first one loaded).
SELECT region_code AS code FROM region ORDER BY region_code LIMIT 1
