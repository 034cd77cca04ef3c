-- 0002 incident categories: national reference data (no region_code), one row per kind of case.
-- gbt31000_domain is the GB/T 31000-2015 database the case feeds:
--   1 governance organisations & services, 2 actual population, 3 special groups, 4 at-risk youth,
--   5 private businesses & social organisations, 6 public order, 7 disputes (screening/mediation),
--   8 schools and their surroundings, 9 road and line protection.
-- NULL means none of the nine fits: the case belongs to a local "X" database of the "9+X" model
-- (see the seed), and reports must not force it into a national domain it does not belong to.
-- department_kind names the department (one per kind per region) that handles the case once it
-- leaves the grid worker; the demo creates exactly these kinds.

INSERT INTO incident_category (code, name, name_en, gbt31000_domain, department_kind, sort_order) VALUES
    -- disputes (矛盾纠纷): the bulk of a pastoral banner's caseload, mediated on the spot when possible
    ('grassland_dispute',  '草原牧场纠纷',       'Grassland and pasture dispute',        7, 'grassland',         10),
    ('land_dispute',       '土地权属边界纠纷',   'Land ownership or boundary dispute',   7, 'natural_resources', 20),
    ('family_dispute',     '婚姻家庭邻里纠纷',   'Marriage, family or neighbour dispute', 7, 'justice',          30),
    ('labour_dispute',     '劳资欠薪纠纷',       'Labour or unpaid-wage dispute',        7, 'justice',           40),
    -- hazards and public order
    ('public_order',       '治安隐患',           'Public-order hazard',                  6, 'public_security',   50),
    ('work_safety',        '安全生产隐患',       'Work-safety hazard',                   6, 'emergency',         60),
    ('fire_hazard',        '消防安全隐患',       'Fire hazard',                          6, 'emergency',         70),
    ('road_safety',        '道路交通安全',       'Road-traffic safety',                  6, 'transport',         80),
    ('road_line_protection','护路护线',          'Road and line protection',             9, 'transport',         90),
    ('school_safety',      '校园周边安全',       'School surroundings safety',           8, 'education',        100),
    -- people and services
    ('special_groups',     '特殊人群服务管理',   'Special-group follow-up',              3, 'justice',          110),
    ('at_risk_youth',      '重点青少年帮扶',     'At-risk youth support',                4, 'education',        120),
    ('livelihood_service', '民生服务',           'Livelihood services',                  1, 'civil_affairs',    130),
    ('health_epidemic',    '卫生健康与疫情防控', 'Health and epidemic prevention',       1, 'health',           140),
    ('market_food_safety', '市场监管与食品安全', 'Market supervision and food safety',   5, 'market',           150),
    -- Ecological complaints (overgrazing, dumping, pollution) are not public order nor a dispute
    -- between parties, so they sit in a local "X" database: domain NULL.
    ('environment',        '生态环境',           'Ecology and environment',           NULL, 'environment',      160),
    -- Dilapidated or unsafe houses (危房) are a housing-department matter with no national domain.
    ('housing_safety',     '房屋安全隐患',       'Unsafe housing',                    NULL, 'housing',          170);
