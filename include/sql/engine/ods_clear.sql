DELETE FROM edfi_sync.ods_record WHERE run_id = %(run_id)s AND resource = %(resource)s
