-- Two syncs of one year never interleave the sends of one resource.
SELECT pg_advisory_lock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0))
