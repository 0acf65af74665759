-- One token fetch at a time per client, across processes.
SELECT pg_advisory_lock(hashtextextended('edfi_sync:token:' || %(cache_key)s, 0))
