SELECT count(*) FILTER (WHERE pg_advisory_unlock(%(budget)s, slot)) FROM unnest(%(slots)s::integer[]) AS slot
