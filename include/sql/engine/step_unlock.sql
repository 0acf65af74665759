SELECT pg_advisory_unlock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0))
