-- The step lock of engine/step_lock.sql, taken only if free: retention never waits for a sync.
SELECT pg_try_advisory_lock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0))
