SELECT pg_advisory_unlock(hashtextextended('edfi_sync:migrations', 0))
