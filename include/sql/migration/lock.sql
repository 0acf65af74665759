-- Concurrent `db init` runs apply each migration once.
SELECT pg_advisory_lock(hashtextextended('edfi_sync:migrations', 0))
