-- A sender joins its connection's budget: the member lock (key 2147483647, never a slot), shared.
SELECT pg_advisory_lock_shared(%(budget)s, 2147483647)
