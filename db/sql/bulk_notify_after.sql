-- After a bulk load whose live-feed trigger was deferred: the one summary it would have sent.
SELECT pg_notify('onemap_events', json_build_object('bulk', %(events)s::bigint)::text)
