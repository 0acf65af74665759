WITH staged AS (DELETE FROM edfi_sync.staged_record WHERE run_id = %(run_id)s)
DELETE FROM edfi_sync.ods_record WHERE run_id = %(run_id)s
