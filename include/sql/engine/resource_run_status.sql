SELECT status, started_at FROM edfi_sync.resource_run
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND phase = %(phase)s
