-- bench/retention_year.py: rows of what grows, and the database's size.
SELECT (SELECT count(*) FROM edfi_sync.sync_run) AS sync_run,
       (SELECT count(*) FROM edfi_sync.resource_run) AS resource_run,
       (SELECT count(*) FROM edfi_sync.error_log) AS error_log,
       (SELECT count(*) FROM edfi_sync.error_log WHERE NOT resolved) AS open_errors,
       (SELECT count(*) FROM edfi_sync.staged_record) AS staged_record,
       (SELECT count(*) FROM edfi_sync.ods_record) AS ods_record,
       (SELECT count(*) FROM edfi_sync.identity_map) AS identity_map,
       pg_database_size(current_database()) AS database_bytes
