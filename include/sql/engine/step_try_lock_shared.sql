-- step_lock_shared.sql without waiting: false, holding nothing, when a step run whole holds the
-- (year, resource) lock or another attempt holds this partition's (CASE: evaluated in order).
SELECT CASE WHEN NOT pg_try_advisory_lock_shared(hashtextextended('edfi_sync:' || %(end_year)s || ':'
                                                                  || %(resource)s, 0)) THEN false
            WHEN pg_try_advisory_lock(hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s
                                                       || ':' || %(partition)s || '/' || %(partitions)s, 0))
                THEN true
            ELSE NOT pg_advisory_unlock_shared(hashtextextended('edfi_sync:' || %(end_year)s || ':'
                                                                || %(resource)s, 0)) END
