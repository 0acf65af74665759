-- The school years an operator can pick: configured ones, and any with runs.
SELECT end_year FROM edfi_sync.connection
 UNION
SELECT DISTINCT end_year FROM edfi_sync.sync_run
 ORDER BY end_year DESC
