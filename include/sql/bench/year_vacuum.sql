-- bench/retention_year.py: what autovacuum does for both scenarios (plain VACUUM: space is reused, not returned).
VACUUM edfi_sync.sync_run, edfi_sync.resource_run, edfi_sync.error_log, edfi_sync.staged_record, edfi_sync.ods_record
