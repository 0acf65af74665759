-- A partition of a post step: the (year, resource) lock shared with the other partitions (a step run
-- whole, an update or a delete step waits for all of them), and its own partition's exclusively.
SELECT pg_advisory_lock_shared(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0)),
       pg_advisory_lock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s
                                         || ':' || %(partition)s || '/' || %(partitions)s, 0))
