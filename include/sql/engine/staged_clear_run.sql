DELETE FROM edfi_sync.staged_record WHERE run_id = %(run_id)s
