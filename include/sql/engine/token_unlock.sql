SELECT pg_advisory_unlock(hashtextextended('edfi_sync:token:' || %(cache_key)s, 0))
