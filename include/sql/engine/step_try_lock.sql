-- step_lock.sql without waiting: false when another run holds the (year, resource) step.
SELECT pg_try_advisory_lock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0))
