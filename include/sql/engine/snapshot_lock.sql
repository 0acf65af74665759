-- Runs of one year that start together would both find a snapshot missing and both take it
-- (a duplicate key): one at a time per year, until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('edfi_sync:snapshot:' || %(end_year)s, 0))
