SELECT pg_advisory_unlock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s
                                           || ':' || %(partition)s || '/' || %(partitions)s, 0)),
       pg_advisory_unlock_shared(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0))
