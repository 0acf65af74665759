-- Records the map says the ODS holds for the year; on a shared instance, for every year.
SELECT CASE WHEN %(shared_instance)s
            THEN (SELECT count(DISTINCT edfi_id) FROM edfi_sync.identity_map WHERE resource = %(resource)s)
            ELSE (SELECT count(*) FROM edfi_sync.identity_map
                   WHERE end_year = %(end_year)s AND resource = %(resource)s) END
