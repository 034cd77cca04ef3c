-- Synthetic return visits for the demo county (actor 'demo', like the rest of the demo's made-up
-- history): about two in three solved reports visited 2–48 hours after their last step (never after now), the
-- resident satisfied about 78 per cent, basically satisfied 12, not satisfied 5, not reachable 5.
-- Deterministic for a seed (a hash of the incident id and the seed); each visit also on the
-- incident's timeline, as incident_return_visit() writes it (0023), without reopening anything.
WITH picked AS (
    SELECT i.id, i.region_code, i.reopened, i.cell_code, i.state, i.handling_level,
           greatest(l.at, least(l.at + make_interval(hours => 2 + (h.v %% 47)), %(now)s::timestamptz)) AS at,
           CASE WHEN h.v / 100 %% 100 < 78 THEN 'satisfied' WHEN h.v / 100 %% 100 < 90 THEN 'basic'
                WHEN h.v / 100 %% 100 < 95 THEN 'unsatisfied' ELSE 'unreachable' END AS outcome
    FROM incident i
    CROSS JOIN LATERAL (SELECT ('x' || substr(md5(i.id::text || %(seed)s::text), 1, 7))::bit(28)::int AS v) h
    CROSS JOIN LATERAL (SELECT max(e.at) AS at FROM incident_event e WHERE e.incident_id = i.id) l
    WHERE i.region_code = %(region_code)s AND i.resolved_at IS NOT NULL AND i.merged_into IS NULL
      AND i.state IN ('resolved', 'verified', 'closed') AND h.v %% 100 < 65
), visits AS (
    INSERT INTO return_visit (region_code, incident_id, round, cell_code, outcome, visited_at, actor)
    SELECT region_code, id, reopened, cell_code, outcome, at, 'demo' FROM picked
    ON CONFLICT (incident_id, round) DO NOTHING
    RETURNING incident_id
), events AS (
    INSERT INTO incident_event (incident_id, region_code, at, action, from_state, to_state, level, actor, note)
    SELECT p.id, p.region_code, p.at, 'return_visit', p.state, p.state, p.handling_level, 'demo', p.outcome
    FROM picked p JOIN visits v ON v.incident_id = p.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM events)
